import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyzeSpf, spfLimitsCheck } from '../../../server/dns/checks/spf-limits.ts';
import { fakeLookup, txt } from './fake-lookup.ts';

const spf = (text: string) => [txt(text)];

test('counts every DNS-querying term across the include tree (a, mx, ptr, exists, include, redirect)', async () => {
  const lookup = fakeLookup({
    'example.test|TXT': spf('v=spf1 a mx include:a.example ptr exists:%{i}.x.example ip4:192.0.2.1 redirect=r.example'),
    'example.test|A': ['192.0.2.1'],
    'example.test|MX': [{ preference: 10, exchange: 'mx.example.test' }],
    'mx.example.test|A': ['192.0.2.2'],
    'a.example|TXT': spf('v=spf1 include:b.example ~all'),
    'b.example|TXT': spf('v=spf1 ip4:198.51.100.0/24 ~all'),
    'r.example|TXT': spf('v=spf1 -all'),
  });
  const analysis = await analyzeSpf('example.test', 'v=spf1 a mx include:a.example ptr exists:%{i}.x.example ip4:192.0.2.1 redirect=r.example', lookup);
  // a, mx, include:a, ptr, exists and redirect= (no "all", so it is used) here, include:b in a.example.
  assert.equal(analysis.lookups, 7);
  assert.equal(analysis.voids, 0);
  assert.deepEqual(analysis.errors, []);
  const check = spfLimitsCheck(analysis);
  assert.equal(check.status, 'warn', 'ptr is a warning');
  assert.deepEqual(check.found, ['7/10 DNS lookups, 0/2 void']);
  assert.equal(check.gate, 'no-error');
});

test('more than 10 lookups is red, with the fix', async () => {
  const zone: Record<string, Buffer[][]> = { 'example.test|TXT': spf(`v=spf1 ${Array.from({ length: 6 }, (_, i) => `include:i${i}.example`).join(' ')} -all`) };
  for (let i = 0; i < 6; i++) zone[`i${i}.example|TXT`] = spf(`v=spf1 include:n${i}.example ~all`);
  for (let i = 0; i < 6; i++) zone[`n${i}.example|TXT`] = spf('v=spf1 ip4:192.0.2.1 ~all');
  const analysis = await analyzeSpf('example.test', String(zone['example.test|TXT']![0]![0]), fakeLookup(zone));
  assert.equal(analysis.lookups, 12);
  const check = spfLimitsCheck(analysis);
  assert.equal(check.status, 'error');
  assert.match(check.details![0]!, /12 DNS-querying terms in the tree, more than the 10 allowed/);
  assert.match(check.fix!, /reduce the DNS-querying terms/);
});

test('void lookups: more than two is red', async () => {
  const lookup = fakeLookup({ 'gone.example|A': 'NODATA', 'gone.example|AAAA': 'NODATA' });
  const analysis = await analyzeSpf('example.test', 'v=spf1 a:gone.example mx:none1.example include:none2.example -all', lookup);
  assert.equal(analysis.voids, 3);
  assert.match(analysis.errors.join('\n'), /3 lookups find nothing, more than the 2 allowed/);
  assert.match(analysis.errors.join('\n'), /include:none2\.example: none2\.example has no SPF record/);
});

test('include loops and redirect loops are found', async () => {
  const lookup = fakeLookup({
    'a.example|TXT': spf('v=spf1 include:b.example -all'),
    'b.example|TXT': spf('v=spf1 redirect=example.test'),
  });
  const analysis = await analyzeSpf('example.test', 'v=spf1 include:a.example -all', lookup);
  assert.match(analysis.errors.join('\n'), /loop: example\.test → a\.example → b\.example → example\.test/);
  assert.equal(spfLimitsCheck(analysis).status, 'error');
});

test('an MX mechanism with more than 10 hosts is red; redirect next to all does not count', async () => {
  const lookup = fakeLookup({ 'example.test|MX': Array.from({ length: 11 }, (_, i) => ({ preference: i, exchange: `mx${i}.example` })) });
  const analysis = await analyzeSpf('example.test', 'v=spf1 mx -all redirect=x.example', lookup);
  assert.equal(analysis.lookups, 1);
  assert.match(analysis.errors.join(), /11 MX hosts, more than the 10/);
});

test('a lookup that fails makes the count a lower bound: grey, not green', async () => {
  const lookup = fakeLookup({ 'spf.example|TXT': 'FAIL' });
  const check = spfLimitsCheck(await analyzeSpf('example.test', 'v=spf1 include:spf.example -all', lookup));
  assert.equal(check.status, 'unknown');
  assert.match(check.found[0]!, /1\/10 DNS lookups, 0\/2 void \(at least/);
  assert.match(check.details!.join('\n'), /not read: include:spf\.example: no reply/);
});

test('duplicate includes are a warning; syntax errors in an included record are red and say where', async () => {
  const lookup = fakeLookup({
    'a.example|TXT': spf('v=spf1 include:c.example ~all'),
    'b.example|TXT': spf('v=spf1 include:c.example ~all'),
    'c.example|TXT': spf('v=spf1 ip4:300.1.1.1 ~all'),
  });
  const analysis = await analyzeSpf('example.test', 'v=spf1 include:a.example include:b.example -all', lookup);
  assert.match(analysis.warnings.join(), /c\.example is included more than once/);
  assert.match(analysis.errors.join(), /"ip4:300\.1\.1\.1".*\(in the record of c\.example\)/);
});
