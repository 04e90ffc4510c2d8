import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { canonicalRdata, parseRdata, tokenize } from '../../server/dns/rdata.ts';
import { plannedRRsets, planCutover, planTtl, rrsetKey, type ZoneState } from '../../server/dns/plan.ts';
import { updateSections } from '../../server/dns/update.ts';
import type { DnsRecord, ExpectedDns } from '../../server/plugins/contract.ts';
import { CutoverError } from '../../server/errors.ts';

const D = 'example.test';
const EXPECTED: ExpectedDns = { mx: [{ priority: 1, exchange: 'mx0.new.example' }, { priority: 5, exchange: 'mx1.new.example' }], spfIncludes: ['spf.new.example'] };

function zone(records: Array<[string, string, string, number?]>): ZoneState {
  const state: ZoneState = new Map();
  for (const [name, type, data, ttl] of records) {
    const key = rrsetKey(name, type);
    state.set(key, [...(state.get(key) ?? []), { name, type, ttl: ttl ?? 3600, data } satisfies DnsRecord]);
  }
  return state;
}

describe('planCutover', () => {
  test('replaces the MX set and merges SPF, each guarded by the exact RRset it was planned from', () => {
    const state = zone([
      [D, 'MX', '10 mx.old.example.'],
      [D, 'TXT', '"v=spf1 include:spf.old.example -all"'],
      [D, 'TXT', '"google-site-verification=abc"'],
    ]);
    const plan = planCutover(D, EXPECTED, state, 300);
    assert.deepEqual(plan.prerequisites, [
      { name: D, type: 'MX', data: ['10 mx.old.example.'] },
      { name: D, type: 'TXT', data: ['"google-site-verification=abc"', '"v=spf1 include:spf.old.example -all"'] },
    ]);
    assert.deepEqual(plan.changes, [
      { op: 'deleteRRset', name: D, type: 'MX' },
      { op: 'add', record: { name: D, type: 'MX', ttl: 300, data: '1 mx0.new.example.' } },
      { op: 'add', record: { name: D, type: 'MX', ttl: 300, data: '5 mx1.new.example.' } },
      { op: 'delete', record: { name: D, type: 'TXT', data: '"v=spf1 include:spf.old.example -all"' } },
      { op: 'add', record: { name: D, type: 'TXT', ttl: 300, data: '"v=spf1 include:spf.old.example include:spf.new.example -all"' } },
    ]);
    assert.deepEqual(plan.replaced, [{ name: D, type: 'MX', ttl: 3600 }, { name: D, type: 'TXT', ttl: 3600 }]);
    assert.equal(plan.summary.length, 2);
  });

  test('nothing to do when the zone already matches (names in any case, other TXT records ignored)', () => {
    const state = zone([
      [D, 'MX', '5 MX1.new.example.'], [D, 'MX', '1 mx0.new.example.'],
      [D, 'TXT', '"v=spf1 include:spf.new.example ~all"'], [D, 'TXT', '"other"'],
    ]);
    const plan = planCutover(D, EXPECTED, state, 300);
    assert.deepEqual(plan.changes, []);
    assert.deepEqual(plan.prerequisites, []);
  });

  test('an absent RRset is locked as absent; several SPF records become one', () => {
    const plan = planCutover(D, EXPECTED, zone([[D, 'TXT', '"v=spf1 a -all"'], [D, 'TXT', '"v=spf1 mx ~all"']]), 300);
    assert.deepEqual(plan.prerequisites[0], { name: D, type: 'MX', data: [] });
    assert.deepEqual(plan.changes.filter((c) => c.op === 'delete').length, 2);
    assert.match(JSON.stringify(plan.changes.at(-1)), /v=spf1 a mx include:spf\.new\.example -all/);
  });

  test('autodiscover, autoconfig, DKIM and RFC 6186 records; a CNAME over address records is left to the admin', () => {
    const expected: ExpectedDns = {
      ...EXPECTED,
      autodiscover: { srv: { target: 'ad.new.example', port: 443 }, cname: 'ad.new.example' },
      autoconfig: { cname: 'ac.new.example' },
      dkim: [{ selector: 's1', cname: 's1.dkim.new.example' }],
      srv: [{ service: '_imaps._tcp', target: 'imap.new.example', port: 993 }],
    };
    const keys = plannedRRsets(D, expected).map((k) => `${k.name} ${k.type}`);
    assert.ok(keys.includes('_autodiscover._tcp.example.test SRV') && keys.includes('autoconfig.example.test A') && keys.includes('s1._domainkey.example.test CNAME'));
    const state = zone([[D, 'MX', '1 mx0.new.example.'], [D, 'MX', '5 mx1.new.example.'], [D, 'TXT', '"v=spf1 include:spf.new.example -all"'], ['autoconfig.example.test', 'A', '192.0.2.7']]);
    const plan = planCutover(D, expected, state, 300);
    assert.deepEqual(plan.manual, ['autoconfig.example.test has address records (192.0.2.7): replace them by CNAME ac.new.example. by hand']);
    const adds = plan.changes.flatMap((c) => (c.op === 'add' ? [`${c.record.name} ${c.record.type} ${c.record.data}`] : []));
    assert.deepEqual(adds, [
      '_autodiscover._tcp.example.test SRV 0 0 443 ad.new.example.',
      '_imaps._tcp.example.test SRV 0 0 993 imap.new.example.',
      's1._domainkey.example.test CNAME s1.dkim.new.example.',
      'autodiscover.example.test CNAME ad.new.example.',
    ]);
    assert.ok(plan.prerequisites.some((p) => p.name === 'autodiscover.example.test' && p.type === 'A' && p.data.length === 0), 'the CNAME name must stay free of addresses');
    assert.ok(!plan.prerequisites.some((p) => p.name === 'autoconfig.example.test'), 'no lock on what the plan does not touch');
  });
});

test('planTtl rewrites each RRset at the new TTL, locked on its values, and says the highest TTL it replaces', () => {
  const state = zone([[D, 'MX', '10 mx.old.example.', 86400], [D, 'TXT', '"a"', 3600], [D, 'TXT', '"b"', 3600], ['x.example.test', 'A', '192.0.2.1', 300]]);
  const lowered = planTtl(state, [{ name: D, type: 'MX' }, { name: D, type: 'TXT' }, { name: 'x.example.test', type: 'A' }, { name: D, type: 'SRV' }], 300);
  assert.equal(lowered.previous, 86400);
  assert.deepEqual(lowered.prerequisites, [{ name: D, type: 'MX', data: ['10 mx.old.example.'] }, { name: D, type: 'TXT', data: ['"a"', '"b"'] }]);
  assert.equal(lowered.changes.filter((c) => c.op === 'add').length, 3);
});

describe('updateSections (RFC 2136 encoding of the contract)', () => {
  test('prerequisites and changes map to IN / NONE / ANY with or without RDATA', () => {
    const sections = updateSections(D, [
      { op: 'deleteRRset', name: D, type: 'MX' },
      { op: 'delete', record: { name: D, type: 'TXT', data: '"old"' } },
      { op: 'add', record: { name: D, type: 'MX', ttl: 300, data: '10 mx.new.example.' } },
    ], [{ name: D, type: 'MX', data: ['10 mx.old.example.'] }, { name: `s._domainkey.${D}`, type: 'CNAME', data: [] }]);
    assert.deepEqual(sections.prerequisites.map((r) => [r.class, r.type, r.ttl, r.data === undefined]), [['IN', 'MX', 0, false], ['NONE', 'CNAME', 0, true]]);
    assert.deepEqual(sections.updates.map((r) => [r.class, r.type, r.ttl, r.data === undefined]), [['ANY', 'MX', 0, true], ['NONE', 'TXT', 0, false], ['IN', 'MX', 300, false]]);
  });

  test('a name outside the zone or bad RDATA is refused before anything is sent', () => {
    assert.throws(() => updateSections(D, [{ op: 'deleteRRset', name: 'example.net', type: 'MX' }]), (err: unknown) => err instanceof CutoverError && /not inside the zone example\.test/.test(err.message));
    assert.throws(() => updateSections(D, [{ op: 'add', record: { name: D, type: 'MX', ttl: 1, data: 'ten mx' } }]), /preference must be a number/);
    assert.throws(() => updateSections(D, [{ op: 'add', record: { name: D, type: 'A', ttl: 1, data: '2001:db8::1' } }]), /expected one IPv4 address/);
  });
});

test('presentation RDATA: quoting, escapes and canonical comparison', () => {
  assert.deepEqual(tokenize('"a b" c "d\\"e" "\\065"').map((t) => t.bytes.toString()), ['a b', 'c', 'd"e', 'A']);
  assert.throws(() => tokenize('"open'), /unterminated/);
  assert.equal(canonicalRdata('MX', '10 MX.Example.NET.'), canonicalRdata('MX', '10 mx.example.net'));
  assert.notEqual(canonicalRdata('TXT', '"ab"'), canonicalRdata('TXT', '"a" "b"'), 'TXT strings are compared as split on the wire');
  assert.deepEqual(parseRdata('SRV', '0 5 993 imap.example.'), { priority: 0, weight: 5, port: 993, target: 'imap.example' });
  assert.throws(() => parseRdata('SRV', '0 5 99999 imap.example.'), /port must be a number from 0 to 65535/);
  assert.throws(() => parseRdata('HINFO', '"a" "b"'), /only accepted in the generic form/);
});
