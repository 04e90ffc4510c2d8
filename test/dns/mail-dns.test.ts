// The whole diagnosis against real servers: BIND serves the domain's zone and the platform's own
// zone (so MX hosts, SPF includes and DKIM targets resolve), the way a resolver would see them.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startBind, type BindInstance } from '../../server/devservers/bind.ts';
import { startKnot, type KnotInstance } from '../../server/devservers/knot.ts';
import { diagnoseMailDns, formatReport, type MailDnsReport } from '../../server/dns/mail-dns.ts';
import type { ExpectedDns } from '../../server/plugins/contract.ts';
import { startSilentServer, type FakeServer } from './fake-servers.ts';

const D = 'example.test';
// Generous: these servers do answer, and a busy test machine must not turn an answer into a timeout.
const FAST = { timeoutMs: 1000, retries: 1 };
const PLATFORM_ZONE = [
  'mx0 IN A 192.0.2.10', 'mx1 IN AAAA 2001:db8::11', 'alias IN CNAME mx0',
  'spf IN TXT "v=spf1 ip4:192.0.2.0/28 ip6:2001:db8::/64 -all"',
  's1._domainkey IN TXT "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC"',
  'autodiscover IN A 192.0.2.20', 'imap IN A 192.0.2.21',
];
const EXPECTED: ExpectedDns = {
  mx: [{ priority: 1, exchange: 'mx0.platform.example' }, { priority: 5, exchange: 'mx1.platform.example' }],
  spfIncludes: ['spf.platform.example'],
  sendingIps: ['192.0.2.3', '2001:db8::25'],
  dkim: [{ selector: 's1', cname: 's1._domainkey.platform.example' }],
  autodiscover: { srv: { target: 'autodiscover.platform.example', port: 443 } },
  srv: [{ service: '_imaps._tcp', target: 'imap.platform.example', port: 993 }, { service: '_pop3s._tcp', target: '.', port: 0 }],
};
const OLD: ExpectedDns = { mx: [{ priority: 10, exchange: 'mx.old.example.net' }], spfIncludes: ['spf.old.example.net'] };
const GOOD_ZONE = [
  '@ IN MX 1 mx0.platform.example.', '@ IN MX 5 mx1.platform.example.',
  '@ IN TXT "v=spf1 ip4:198.51.100.7 include:spf.platform.example ~all"', '@ IN TXT "google-site-verification=abc"',
  's1._domainkey IN CNAME s1._domainkey.platform.example.',
  '_dmarc IN TXT "v=DMARC1; p=quarantine; rua=mailto:dmarc@example.test"',
  '_autodiscover._tcp IN SRV 0 0 443 autodiscover.platform.example.',
  '_imaps._tcp IN SRV 0 0 993 imap.platform.example.', '_pop3s._tcp IN SRV 0 0 0 .',
];

const statuses = (report: MailDnsReport) => Object.fromEntries(report.checks.map((c) => [c.id, c.status]));

describe('diagnoseMailDns: every check green on a domain set up for the platform', { timeout: 60_000 }, () => {
  let bind: BindInstance;
  before(async () => { bind = await startBind({ zones: [{ zone: D, records: GOOD_ZONE }, { zone: 'platform.example', records: PLATFORM_ZONE }] }); });
  after(() => bind?.stop());

  test('all checks ok, in one pass, quickly', async () => {
    const started = Date.now();
    const report = await diagnoseMailDns(D, EXPECTED, { resolvers: [{ host: '127.0.0.1', port: bind.port }], query: FAST });
    const elapsed = Date.now() - started;
    assert.deepEqual(statuses(report), {
      mx: 'ok', 'mx-hosts': 'ok', spf: 'ok', 'spf-limits': 'ok', 'spf-auth': 'ok', 'dkim:s1': 'ok', dmarc: 'ok',
      'autodiscover-srv': 'ok', 'srv:_imaps._tcp': 'ok', 'srv:_pop3s._tcp': 'ok', propagation: 'ok', resolvers: 'ok',
    }, formatReport(report).join('\n'));
    assert.equal(report.status, 'ok');
    assert.equal(report.zone, D);
    assert.equal(report.authoritativeSource, 'configured', 'the configured server answers for the zone itself');
    const find = (id: string) => report.checks.find((c) => c.id === id)!;
    assert.deepEqual(find('spf-auth').found, ['192.0.2.3: pass', '2001:db8::25: pass']);
    assert.deepEqual(find('spf-limits').found, ['1/10 DNS lookups, 0/2 void']);
    assert.deepEqual(find('mx-hosts').found, ['mx0.platform.example → 192.0.2.10', 'mx1.platform.example → 2001:db8::11']);
    assert.deepEqual(find('dmarc').found, ['p=quarantine']);
    assert.ok(elapsed < 2_000, `a full check took ${elapsed} ms`);
    assert.ok(report.elapsedMs <= elapsed);
  });
});

describe('diagnoseMailDns on a domain still at the old platform', { timeout: 60_000 }, () => {
  let bind: BindInstance;
  before(async () => {
    bind = await startBind({ zones: [{ zone: D, records: ['@ IN MX 10 mx.old.example.net.', '@ IN MX 20 alias.platform.example.', '@ IN TXT "v=spf1 include:spf.old.example.net -all"', '@ IN TXT "v=spf1 mx -all"'] }, { zone: 'platform.example', records: PLATFORM_ZONE }] });
  });
  after(() => bind?.stop());

  test('red where it matters, each with the exact fix, and the old platform named', async () => {
    const report = await diagnoseMailDns(D, EXPECTED, { resolvers: [{ host: '127.0.0.1', port: bind.port }], old: OLD, query: FAST });
    const s = statuses(report);
    assert.equal(s.mx, 'error');
    assert.equal(s['mx-hosts'], 'unknown', 'mx.old.example.net cannot be resolved here, which outranks the CNAME warning');
    assert.ok(report.checks.find((c) => c.id === 'mx-hosts')!.found.includes('alias.platform.example is a CNAME to mx0.platform.example.'));
    assert.equal(s.spf, 'error');
    assert.equal(s['spf-auth'], 'error');
    assert.equal(s['dkim:s1'], 'error');
    assert.equal(s.dmarc, 'warn');
    assert.equal(s.propagation, 'error');
    assert.equal(s['spf-limits'], undefined, 'two SPF records: there is no single tree to count');
    assert.deepEqual(report.blocking, ['mx', 'spf', 'spf-auth', 'propagation']);
    const lines = formatReport(report);
    assert.match(lines.join('\n'), /✖ MX {2}found: 10 mx\.old\.example\.net \(old platform\), 20 alias\.platform\.example {2}expected: 1 mx0\.platform\.example, 5 mx1\.platform\.example {2}fix: publish exactly: example\.test\. 3600 IN MX 1 mx0\.platform\.example\.; example\.test\. 3600 IN MX 5 mx1\.platform\.example\. — remove: example\.test\. IN MX 10 mx\.old\.example\.net\.; example\.test\. IN MX 20 alias\.platform\.example\./);
    assert.match(lines.join('\n'), /✖ SPF {2}found: .*fix: publish exactly: example\.test\. 3600 IN TXT "v=spf1 include:spf\.old\.example\.net mx include:spf\.platform\.example -all"/);
    assert.match(lines.join('\n'), /2 SPF records: receivers return permerror/);
    assert.match(lines.join('\n'), /✖ SPF check_host\(\) {2}found: 192\.0\.2\.3: permerror, 2001:db8::25: permerror .* fix: publish exactly/);
  });
});

describe('diagnoseMailDns when servers do not answer', { timeout: 30_000 }, () => {
  let knot: KnotInstance;
  let silent: FakeServer;
  before(async () => { [knot, silent] = await Promise.all([startKnot({ zone: D, records: ['@ IN MX 10 mx.new.example.'] }), startSilentServer()]); });
  after(async () => { await Promise.all([knot?.stop(), silent?.stop()]); });
  const expected: ExpectedDns = { mx: [{ priority: 10, exchange: 'mx.new.example' }], spfIncludes: [] };

  test('a resolver that does not answer is skipped in favour of the next one', async () => {
    const started = Date.now();
    const report = await diagnoseMailDns(D, expected, { resolvers: [{ host: '127.0.0.1', port: silent.port }, { host: '127.0.0.1', port: knot.port }], query: { timeoutMs: 700, retries: 0 } });
    // Asked first for every name, the silent one would cost ~10 timeouts; demoted, a handful.
    assert.ok(Date.now() - started < 5_000, 'a dead resolver is tried last once it has timed out');
    assert.equal(statuses(report).mx, 'ok');
    assert.equal(statuses(report).propagation, 'ok');
    assert.deepEqual(report.checks.map((c) => c.id), ['mx', 'mx-hosts', 'dmarc', 'propagation', 'resolvers'], 'no SPF check when the platform needs none and the domain has none');
  });

  test('nothing answers: grey everywhere it matters, quickly, with the reason', async () => {
    const started = Date.now();
    const report = await diagnoseMailDns(D, expected, { resolvers: [{ host: '127.0.0.1', port: silent.port }], query: { timeoutMs: 100, retries: 0 } });
    assert.ok(Date.now() - started < 3_000);
    assert.equal(report.zone, null);
    assert.equal(statuses(report).mx, 'unknown');
    assert.equal(statuses(report).propagation, 'unknown');
    assert.deepEqual(report.blocking, ['mx', 'propagation']);
    const lines = formatReport(report);
    assert.equal(lines[0], '? MX  found: (no answer)  expected: 10 mx.new.example');
    assert.match(lines.join('\n'), /no zone found above example\.test/);
    assert.match(lines.join('\n'), /DNS query for example\.test MX at 127\.0\.0\.1:\d+ failed: no reply within 100 ms/);
  });
});
