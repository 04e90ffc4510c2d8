import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import plugin from '../../../plugins/ovhcloud/index.ts';
import { canonicalData } from '../../../plugins/ovhcloud/dns-zone.ts';
import { CutoverError } from '../../../server/errors.ts';
import { createLogger } from '../../../server/log.ts';
import type { DnsProvider } from '../../../server/plugins/contract.ts';
import { startFakeOvh, type FakeOvh } from '../../support/fake-ovh/index.ts';
import type { FakeZone } from '../../support/fake-ovh/state.ts';
import { fakeConfig } from './helpers.ts';

let fake: FakeOvh;
let zone: FakeZone;
let dns: DnsProvider;

const OLD = [
  { fieldType: 'MX', subDomain: '', target: '10 mx.old.example.net.', ttl: 3600 },
  { fieldType: 'TXT', subDomain: '', target: '"v=spf1 include:spf.old.example.net -all"', ttl: 3600 },
  { fieldType: 'A', subDomain: 'www', target: '192.0.2.10', ttl: 0 },
];

before(async () => {
  fake = await startFakeOvh();
  zone = fake.state.addZone('example.test', OLD);
  fake.state.addZone('not-mine.test', []);
  // A DNS-only configuration: no offer, the zones it may change; the key holds exactly the zone rules.
  dns = plugin.dns!(fakeConfig(fake, { zones: ['example.test'] }), { log: createLogger('silent') });
});
after(async () => { await fake.stop(); });

const shown = (records: Array<{ name: string; type: string; data: string }>) => records.map((r) => `${r.name} ${r.type} ${r.data}`).sort();

test('manages only the configured zones that exist', async () => {
  assert.equal(dns.readOnly, false);
  assert.equal(await dns.manages('example.test'), true);
  assert.equal(await dns.manages('EXAMPLE.test.'), true);
  assert.equal(await dns.manages('not-mine.test'), false, 'outside the configured list');
});

test('lists records in presentation form, filtered by name and type', async () => {
  assert.deepEqual(shown(await dns.listRecords('example.test')), [
    'example.test MX 10 mx.old.example.net.',
    'example.test TXT "v=spf1 include:spf.old.example.net -all"',
    'www.example.test A 192.0.2.10',
  ]);
  assert.deepEqual(shown(await dns.listRecords('example.test', 'example.test.', 'MX')), ['example.test MX 10 mx.old.example.net.']);
  assert.deepEqual(await dns.listRecords('example.test', 'nothing.example.test', 'MX'), []);
});

test('apply: deletes and creates records, then refreshes the zone once; a repeat changes nothing', async () => {
  const changes = [
    { op: 'deleteRRset' as const, name: 'example.test', type: 'MX' },
    { op: 'delete' as const, record: { name: 'example.test', type: 'TXT', data: '"v=spf1 include:spf.old.example.net -all"' } },
    { op: 'add' as const, record: { name: 'example.test', type: 'MX', ttl: 3600, data: '1 mx0.mail.ovh.net.' } },
    { op: 'add' as const, record: { name: 'example.test', type: 'MX', ttl: 3600, data: '5 mx1.mail.ovh.net.' } },
    { op: 'add' as const, record: { name: 'example.test', type: 'TXT', ttl: 3600, data: '"v=spf1 include:mx.ovh.com ~all"' } },
    { op: 'add' as const, record: { name: '_autodiscover._tcp.example.test', type: 'SRV', ttl: 3600, data: '0 0 443 mailconfig.ovh.net.' } },
  ];
  const prerequisites = [{ name: 'example.test', type: 'MX', data: ['10 mx.old.example.net.'] }];
  await dns.apply('example.test', changes, prerequisites);
  assert.equal(zone.refreshes, 1);
  assert.deepEqual(shown(await dns.listRecords('example.test')), [
    '_autodiscover._tcp.example.test SRV 0 0 443 mailconfig.ovh.net.',
    'example.test MX 1 mx0.mail.ovh.net.',
    'example.test MX 5 mx1.mail.ovh.net.',
    'example.test TXT "v=spf1 include:mx.ovh.com ~all"',
    'www.example.test A 192.0.2.10',
  ]);
  const posts = fake.calls.filter((c) => c.method === 'POST').length;
  await dns.apply('example.test', changes.filter((c) => c.op === 'add'));
  assert.equal(fake.calls.filter((c) => c.method === 'POST').length, posts, 'nothing created, no refresh');
  assert.equal(zone.refreshes, 1);
});

test('apply with a prerequisite the zone no longer meets changes nothing and says what it found', async () => {
  const before = zone.records.size;
  await assert.rejects(dns.apply('example.test', [{ op: 'add', record: { name: 'example.test', type: 'MX', ttl: 300, data: '9 mx.other.example.' } }], [{ name: 'example.test', type: 'MX', data: ['10 mx.old.example.net.'] }]), (err: unknown) => {
    assert.ok(err instanceof CutoverError);
    assert.equal(err.code, 'DNS_PREREQUISITE_FAILED');
    assert.match(err.message, /1 mx0\.mail\.ovh\.net/);
    return true;
  });
  assert.equal(zone.records.size, before);
});

test('names outside the zone are refused; OVHcloud\'s SPF type reads as TXT; RDATA compares in one spelling', async () => {
  await assert.rejects(dns.apply('example.test', [{ op: 'add', record: { name: 'example.org', type: 'A', ttl: 60, data: '192.0.2.1' } }]), /not inside the zone/);
  fake.state.addZone('spf.test', [{ fieldType: 'SPF', subDomain: '', target: '"v=spf1 include:mx.ovh.com ~all"', ttl: 0 }]);
  const wide = plugin.dns!(fakeConfig(fake, {}), { log: createLogger('silent') });
  assert.deepEqual(shown(await wide.listRecords('spf.test', 'spf.test', 'TXT')), ['spf.test TXT "v=spf1 include:mx.ovh.com ~all"']);
  assert.equal(canonicalData('MX', '10 MX.Example.NET.'), canonicalData('MX', '10 mx.example.net'));
  assert.equal(canonicalData('TXT', '"v=spf1 " "-all"'), canonicalData('TXT', 'v=spf1 -all'));
});
