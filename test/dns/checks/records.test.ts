// DKIM, DMARC, client auto-configuration and MX host checks, each against a plain-object zone.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkCname, checkSrv, clientConfigChecks } from '../../../server/dns/checks/client-config.ts';
import { checkDkim } from '../../../server/dns/checks/dkim.ts';
import { checkDmarc, parseDmarc } from '../../../server/dns/checks/dmarc.ts';
import { checkMxHosts } from '../../../server/dns/checks/mx-hosts.ts';
import { blockingChecks, type CheckResult } from '../../../server/dns/checks/types.ts';
import { fakeLookup, txt } from './fake-lookup.ts';

const D = 'example.test';
const KEY = 'v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC';

describe('DKIM', () => {
  test('a CNAME to the provider, with a key behind it, is ok', async () => {
    const lookup = fakeLookup({ 'sel1._domainkey.example.test|CNAME': ['sel1._domainkey.dkim.provider.example'], 'sel1._domainkey.example.test|TXT': [txt(KEY)] });
    const result = await checkDkim(D, { selector: 'sel1', cname: 'sel1._domainkey.dkim.provider.example' }, lookup);
    assert.equal(result.status, 'ok');
    assert.deepEqual(result.found[0], 'CNAME sel1._domainkey.dkim.provider.example.');
  });

  test('missing: red, with the CNAME to publish', async () => {
    const result = await checkDkim(D, { selector: 'sel1', cname: 'sel1.dkim.provider.example' }, fakeLookup({}));
    assert.equal(result.status, 'error');
    assert.equal(result.fix, 'publish exactly: sel1._domainkey.example.test. 3600 IN CNAME sel1.dkim.provider.example.');
  });

  test('a key published as TXT where the platform wants a CNAME is amber', async () => {
    const result = await checkDkim(D, { selector: 'sel1', cname: 'sel1.dkim.provider.example' }, fakeLookup({ 'sel1._domainkey.example.test|TXT': [txt(KEY)] }));
    assert.equal(result.status, 'warn');
    assert.match(result.details!.join(), /cannot rotate it/);
  });

  test('an expected TXT key is compared by its p= value; a long key in several strings is joined', async () => {
    const lookup = fakeLookup({ 'k._domainkey.example.test|TXT': [txt('v=DKIM1; k=rsa; ', 'p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC')] });
    assert.equal((await checkDkim(D, { selector: 'k', txt: KEY }, lookup)).status, 'ok');
    assert.equal((await checkDkim(D, { selector: 'k', txt: 'v=DKIM1; p=OTHER' }, lookup)).status, 'error');
  });

  test('a failed lookup is grey', async () => {
    assert.equal((await checkDkim(D, { selector: 's' }, fakeLookup({ 's._domainkey.example.test|TXT': 'FAIL' }))).status, 'unknown');
  });
});

describe('DMARC', () => {
  test('present and parseable: ok, the policy shown', async () => {
    const result = await checkDmarc(D, fakeLookup({ '_dmarc.example.test|TXT': [txt('v=DMARC1; p=quarantine; sp=reject; rua=mailto:dmarc@example.test')] }));
    assert.equal(result.status, 'ok');
    assert.deepEqual(result.found, ['p=quarantine sp=reject']);
    assert.equal(result.details![0], 'policy: quarantine (subdomains: reject)');
  });

  test('p=none is shown as monitoring only', async () => {
    const result = await checkDmarc(D, fakeLookup({ '_dmarc.example.test|TXT': [txt('v=DMARC1; p=none')] }));
    assert.equal(result.status, 'ok');
    assert.match(result.details!.join(), /monitoring only.*no rua=/);
  });

  test('absent: amber with a record to publish', async () => {
    const result = await checkDmarc(D, fakeLookup({}));
    assert.equal(result.status, 'warn');
    assert.match(result.fix!, /_dmarc\.example\.test\. 3600 IN TXT "v=DMARC1; p=none; rua=mailto:postmaster@example\.test"/);
  });

  test('unparseable or duplicated: red', async () => {
    assert.equal((await checkDmarc(D, fakeLookup({ '_dmarc.example.test|TXT': [txt('v=DMARC1; p=maybe')] }))).status, 'error');
    assert.equal((await checkDmarc(D, fakeLookup({ '_dmarc.example.test|TXT': [txt('v=DMARC1; p=none'), txt('v=DMARC1; p=reject')] }))).status, 'error');
    assert.deepEqual(parseDmarc('v=DMARC1; p=reject; pct=150; adkim=x; rua=http://x').errors, ['adkim=x is not r or s', 'pct=150 is not 0-100', 'rua= must be mailto: addresses']);
    assert.deepEqual(parseDmarc('p=reject; v=DMARC1').errors, ['the record must start with "v=DMARC1"']);
  });
});

describe('client configuration', () => {
  test('autodiscover SRV and CNAME, autoconfig and RFC 6186 services', async () => {
    const lookup = fakeLookup({
      '_autodiscover._tcp.example.test|SRV': [{ priority: 0, weight: 0, port: 443, target: 'autodiscover.provider.example' }],
      'autodiscover.example.test|CNAME': ['old.host.example'],
      'autoconfig.example.test|A': ['192.0.2.9'],
      '_imaps._tcp.example.test|SRV': [{ priority: 0, weight: 1, port: 993, target: 'imap.provider.example' }],
      '_pop3s._tcp.example.test|SRV': [{ priority: 0, weight: 0, port: 995, target: 'pop.example' }],
    });
    const results = await clientConfigChecks(D, {
      autodiscover: { srv: { target: 'autodiscover.provider.example', port: 443 }, cname: 'autodiscover.provider.example' },
      autoconfig: { cname: 'autoconfig.provider.example' },
      srv: [{ service: '_imaps._tcp', target: 'imap.provider.example', port: 993, weight: 1 }, { service: '_pop3s._tcp', target: '.', port: 0 }],
    }, lookup);
    const byId = Object.fromEntries(results.map((r) => [r.id, r]));
    assert.equal(byId['autodiscover-srv']!.status, 'ok');
    assert.equal(byId.autodiscover!.status, 'error');
    assert.equal(byId.autodiscover!.fix, 'publish exactly: autodiscover.example.test. 3600 IN CNAME autodiscover.provider.example. — remove: autodiscover.example.test. IN CNAME old.host.example.');
    assert.equal(byId.autoconfig!.fix, 'publish exactly: autoconfig.example.test. 3600 IN CNAME autoconfig.provider.example. — remove: autoconfig.example.test. IN A 192.0.2.9');
    assert.equal(byId['srv:_imaps._tcp']!.status, 'ok');
    assert.equal(byId['srv:_pop3s._tcp']!.status, 'error', 'a service the platform does not offer must say "." (RFC 6186)');
    assert.match(byId['srv:_pop3s._tcp']!.fix!, /_pop3s\._tcp\.example\.test\. 3600 IN SRV 0 0 0 \.$|SRV 0 0 0 \. — remove/);
  });

  test('an SRV set with the right target plus another one is amber', async () => {
    const lookup = fakeLookup({ '_submissions._tcp.example.test|SRV': [{ priority: 0, weight: 0, port: 465, target: 'smtp.example' }, { priority: 5, weight: 0, port: 465, target: 'old.example' }] });
    const result = await checkSrv('srv', 'SRV', '_submissions._tcp.example.test', { target: 'smtp.example', port: 465 }, lookup);
    assert.equal(result.status, 'warn');
    assert.match(result.fix!, /remove: _submissions\._tcp\.example\.test\. IN SRV 5 0 465 old\.example\./);
    assert.equal((await checkCname('c', 'C', 'x.example.test', 'y.example', fakeLookup({ 'x.example.test|CNAME': 'FAIL' }))).status, 'unknown');
  });
});

describe('MX hosts', () => {
  test('addresses found, CNAME targets and hosts without address named', async () => {
    const lookup = fakeLookup({
      'mx1.example|A': ['192.0.2.1'],
      'mx2.example|AAAA': ['2001:db8::2'],
      'alias.example|CNAME': ['mx1.example'],
      'alias.example|A': ['192.0.2.1'],
      'down.example|A': 'FAIL', 'down.example|AAAA': 'FAIL',
    });
    const ok = await checkMxHosts([{ priority: 1, exchange: 'mx1.example' }, { priority: 2, exchange: 'MX2.example.' }], lookup);
    assert.equal(ok.status, 'ok');
    assert.deepEqual(ok.found, ['mx1.example → 192.0.2.1', 'mx2.example → 2001:db8::2']);
    const alias = await checkMxHosts([{ priority: 1, exchange: 'alias.example' }], lookup);
    assert.equal(alias.status, 'warn');
    assert.equal(alias.found[0], 'alias.example is a CNAME to mx1.example.');
    assert.equal((await checkMxHosts([{ priority: 1, exchange: 'nowhere.example' }], lookup)).status, 'error');
    assert.equal((await checkMxHosts([{ priority: 1, exchange: 'down.example' }], lookup)).status, 'unknown');
    assert.equal((await checkMxHosts([{ priority: 0, exchange: '.' }], lookup)).found.length, 0, 'a null MX has no host to resolve');
  });
});

test('blockingChecks: gate ok waits until green, gate no-error only while red, no gate never', () => {
  const check = (id: string, status: CheckResult['status'], gate?: CheckResult['gate']): CheckResult => ({ id, title: id, status, found: [], expected: [], ...(gate && { gate }) });
  const blocking = blockingChecks([
    check('a', 'warn', 'ok'), check('b', 'ok', 'ok'), check('c', 'unknown', 'no-error'), check('d', 'error', 'no-error'), check('e', 'error'),
  ]);
  assert.deepEqual(blocking.map((c) => c.id), ['a', 'd']);
});
