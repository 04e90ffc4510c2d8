import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DNS_TEMPLATES, expectedFromApi, parseExpectedMx, parseExpectedSpf, parseExpectedSrv, template } from '../../../plugins/ovhcloud/expected-dns.ts';

const EU = template('2024-02', 'ovh-eu');

test('the 2024-02 template: EU mx0..mx4 at 1/5/50/100/200, include:mx.ovh.com, relay mx1.mail.ovh.net; CA its own hosts', () => {
  assert.deepEqual(EU.mx.map((m) => `${m.priority} ${m.exchange}`), ['1 mx0.mail.ovh.net', '5 mx1.mail.ovh.net', '50 mx2.mail.ovh.net', '100 mx3.mail.ovh.net', '200 mx4.mail.ovh.net']);
  assert.deepEqual(EU.spfIncludes, ['mx.ovh.com']);
  assert.equal(EU.relayHost, 'mx1.mail.ovh.net');
  assert.equal(template('2024-02', 'ovh-ca').mx[0]!.exchange, 'mx1.mail.ovh.ca');
  assert.ok(DNS_TEMPLATES['2024-02'].source.length > 0);
  const copy = template('2024-02', 'ovh-eu');
  copy.mx.pop();
  assert.equal(template('2024-02', 'ovh-eu').mx.length, 5, 'callers get copies');
});

test('expectedMX in every spelling the API might use', () => {
  assert.deepEqual(parseExpectedMx(['mx0.mail.ovh.net', 'MX1.mail.ovh.net.'], EU.mx), [{ priority: 1, exchange: 'mx0.mail.ovh.net' }, { priority: 5, exchange: 'mx1.mail.ovh.net' }]);
  assert.deepEqual(parseExpectedMx(['IN MX 7 mx9.example.net.'], EU.mx), [{ priority: 7, exchange: 'mx9.example.net' }]);
  assert.deepEqual(parseExpectedMx(['unknown.example.net', 'other.example.net'], EU.mx), [{ priority: 10, exchange: 'unknown.example.net' }, { priority: 20, exchange: 'other.example.net' }]);
  assert.deepEqual(parseExpectedMx(['', '  '], EU.mx), []);
});

test('expectedSPF: "IN TXT v=spf1 … ~all" gives its includes; junk gives null', () => {
  assert.deepEqual(parseExpectedSpf('IN TXT v=spf1 include:mx.ovh.com ~all'), ['mx.ovh.com']);
  assert.deepEqual(parseExpectedSpf('"v=spf1 include:mx.ovh.com a:gw.ex-mail.biz ~all"'), ['mx.ovh.com']);
  assert.deepEqual(parseExpectedSpf('IN TXT v=spf1 include:a.example include:b.example. -all'), ['a.example', 'b.example']);
  assert.equal(parseExpectedSpf('nothing here'), null);
  assert.equal(parseExpectedSpf(null), null);
});

test('expectedAutodiscoverSRV gives its target', () => {
  assert.equal(parseExpectedSrv('_autodiscover._tcp IN SRV 0 0 443 ex5.mail.ovh.net.'), 'ex5.mail.ovh.net');
  assert.equal(parseExpectedSrv(''), null);
});

test('the API wins where it answers; the template fills the gaps, and says which is which', () => {
  const both = expectedFromApi({ mx: ['1 mx9.mail.ovh.net.'], spf: 'IN TXT v=spf1 include:spf.example ~all' }, EU);
  assert.deepEqual(both, { mx: [{ priority: 1, exchange: 'mx9.mail.ovh.net' }], spfIncludes: ['spf.example'], from: { mx: 'api', spf: 'api' } });
  const none = expectedFromApi({ mx: [], spf: null }, EU);
  assert.deepEqual(none.from, { mx: 'template', spf: 'template' });
  assert.equal(none.mx.length, 5);
});
