// RFC 6764 SRV discovery logic with a plain-object resolver (the real-server paths of discovery,
// well-known and current-user-principal, are in dav.test.ts and cli.test.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Lookup, LookupResult } from '../../server/dns/resolver.ts';
import { davUrlFromDns } from '../../server/groupware/dav/discovery.ts';

function fakeLookup(records: Record<string, unknown[]>): Lookup {
  return {
    async lookup(name, type) {
      const data = records[`${name} ${type}`] ?? [];
      return { name, type, outcome: data.length ? 'answer' : 'nxdomain', records: data.map((d) => ({ name, type, typeCode: 0, class: 'IN', ttl: 300, data: d })), chain: [], ttl: 300, negativeTtl: null, soa: null, authoritative: false, server: null, failure: null, errors: [] } as unknown as LookupResult;
    },
  };
}

test('_caldavs._tcp SRV (best priority, then weight) and its TXT path give the base URL', async () => {
  const lookup = fakeLookup({
    '_caldavs._tcp.example.test SRV': [{ priority: 20, weight: 0, port: 443, target: 'backup.example.test.' }, { priority: 10, weight: 5, port: 8443, target: 'dav.example.test.' }],
    '_caldavs._tcp.example.test TXT': [[Buffer.from('path=/dav/')]],
  });
  assert.equal(await davUrlFromDns('example.test', lookup), 'https://dav.example.test:8443/dav/');
});

test('falls back to _carddavs._tcp; a "." target means no service; nothing gives undefined', async () => {
  assert.equal(await davUrlFromDns('example.test', fakeLookup({ '_carddavs._tcp.example.test SRV': [{ priority: 0, weight: 0, port: 443, target: 'cards.example.test' }] })), 'https://cards.example.test/');
  assert.equal(await davUrlFromDns('example.test', fakeLookup({ '_caldavs._tcp.example.test SRV': [{ priority: 0, weight: 0, port: 0, target: '.' }] })), undefined);
  assert.equal(await davUrlFromDns('example.test', fakeLookup({})), undefined);
});
