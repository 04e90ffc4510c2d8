import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSpf, validDomainSpec } from '../../../server/dns/checks/spf-syntax.ts';

test('a typical record parses into its terms without errors or warnings', () => {
  const parsed = parseSpf('v=spf1 mx a:mail.example.test/24 ip4:192.0.2.0/24 ip6:2001:db8::/32 include:spf.example.net exists:%{i}.bl.example.net -all');
  assert.deepEqual(parsed.errors, []);
  assert.deepEqual(parsed.warnings, []);
  assert.deepEqual(parsed.terms.map((t) => (t.kind === 'mechanism' ? `${t.qualifier}${t.name}` : t.name)), ['+mx', '+a', '+ip4', '+ip6', '+include', '+exists', '-all']);
  const a = parsed.terms[1];
  assert.ok(a?.kind === 'mechanism' && a.domain === 'mail.example.test' && a.cidr4 === 24);
});

test('each kind of syntax error is named with its term', () => {
  const cases: Array<[string, RegExp]> = [
    ['v=spf1 ip6', /"ip6": ip6 needs ":" and an address/],
    ['v=spf1 ip4:192.0.2.1/33', /invalid prefix length \/33/],
    ['v=spf1 ip4:1.2.3.4:8080', /"1\.2\.3\.4:8080" is not an IPv4 network/],
    ['v=spf1 a//129', /invalid prefix length/],
    ['v=spf1 a:example.test/024', /invalid prefix length/],
    ['v=spf1 include: -all', /include needs ":" and a valid domain/],
    ['v=spf1 include:%{x}.example.test', /include needs ":" and a valid domain/],
    ['v=spf1 exp=-all', /exp= needs a valid domain/],
    ['v=spf1 -all exp=%{r}.example.test', /exp= needs a valid domain/],
    ['v=spf1 exp=a.example.test exp=b.example.test', /exp= appears more than once/],
    ['v=spf1 redirect=a.example.test redirect=b.example.test', /redirect= appears more than once/],
    ['v=spf1 -all.', /"-all\.": "all" takes no argument/],
    ['v=spf1 -all:foobar', /"all" takes no argument/],
    ['v=spf1 foo:bar', /unknown mechanism "foo"/],
    ['v=spf1 a:example.test ×', /outside printable ASCII/],
    ['spf1 -all', /does not start with "v=spf1"/],
  ];
  for (const [record, error] of cases) assert.match(parseSpf(record).errors.join('\n'), error, record);
});

test('unknown modifiers are allowed, risky constructs are warnings', () => {
  assert.deepEqual(parseSpf('v=spf1 moo.cow-far_out=man:dog/cat ip4:1.2.3.4 -all').errors, []);
  assert.match(parseSpf('v=spf1 +all').warnings.join(), /"\+all" authorises every host/);
  assert.match(parseSpf('v=spf1 ptr -all').warnings.join(), /ptr/);
  assert.match(parseSpf('v=spf1 mx').warnings.join(), /no "all" and no "redirect="/);
  assert.match(parseSpf('v=spf1 -all mx').warnings.join(), /after "all" are never evaluated/);
});

test('domain-spec: a toplabel or a macro at the end', () => {
  assert.ok(validDomainSpec('example.test'));
  assert.ok(validDomainSpec('example.test.'));
  assert.ok(validDomainSpec('%{d}'));
  assert.ok(validDomainSpec('%{ir}.%{v}._spf.%{d2}'));
  assert.ok(!validDomainSpec('example.123'));
  assert.ok(!validDomainSpec('-all'));
  assert.ok(!validDomainSpec('foo%x.example'));
  assert.ok(!validDomainSpec(''));
});
