import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startKnot, type KnotInstance } from '../../server/devservers/knot.ts';
import { checkMailDns, formatReport, type MailDnsExpectations, type MailDnsReport } from '../../server/dns/mail-dns.ts';
import { startSilentServer, type FakeServer } from './fake-servers.ts';

const DOMAIN = 'example.test';
const EXPECTED: MailDnsExpectations = { mx: [{ priority: 10, exchange: 'mx.new.example.' }], spfIncludes: ['mx.new.example'] };
const FAST = { timeoutMs: 100, retries: 0 };

function statuses(report: MailDnsReport): Record<string, string> {
  return Object.fromEntries(report.checks.map((check) => [check.id, check.status]));
}

describe('checkMailDns against Knot', () => {
  let knot: KnotInstance;
  let silent: FakeServer;
  before(async () => {
    [knot, silent] = await Promise.all([
      startKnot({ zone: DOMAIN, records: ['@ IN MX 10 old-mx.example.net.', '@ IN TXT "v=spf1 include:_spf.old.example ~all"', '@ IN TXT "google-site-verification=abc"'] }),
      startSilentServer(),
    ]);
  });
  after(async () => { await Promise.all([knot.stop(), silent.stop()]); });

  test('red before the cutover, amber with a leftover MX, green once the old MX is gone', async () => {
    const red = await checkMailDns(DOMAIN, EXPECTED, [knot]);
    assert.equal(red.status, 'error');
    assert.deepEqual(statuses(red), { mx: 'error', spf: 'error' });
    assert.equal(red.server, `127.0.0.1:${knot.port}`);
    assert.ok(!Number.isNaN(Date.parse(red.checkedAt)));
    assert.deepEqual(formatReport(red), [
      '✖ MX  found: 10 old-mx.example.net  expected: 10 mx.new.example  fix: publish exactly: example.test. 3600 IN MX 10 mx.new.example. — remove: example.test. IN MX 10 old-mx.example.net.',
      '✖ SPF  found: v=spf1 include:_spf.old.example ~all  expected: include:mx.new.example  fix: publish exactly: example.test. 3600 IN TXT "v=spf1 include:_spf.old.example include:mx.new.example ~all" — remove: example.test. IN TXT "v=spf1 include:_spf.old.example ~all"',
    ]);

    await knot.update([
      'add example.test. 300 MX 10 mx.new.example.',
      'del example.test. TXT "v=spf1 include:_spf.old.example ~all"',
      'add example.test. 300 TXT "v=spf1 include:_spf.old.example include:mx.new.example ~all"',
    ]);
    const amber = await checkMailDns(DOMAIN, EXPECTED, [knot]);
    assert.equal(amber.status, 'warn');
    assert.deepEqual(statuses(amber), { mx: 'warn', spf: 'ok' });
    assert.match(formatReport(amber)[0] ?? '', /^! MX {2}found: 10 mx\.new\.example, 10 old-mx\.example\.net {2}expected: 10 mx\.new\.example {2}fix: .* — remove: example\.test\. IN MX 10 old-mx\.example\.net\.$/);

    await knot.update(['del example.test. MX 10 old-mx.example.net.']);
    const green = await checkMailDns(DOMAIN, EXPECTED, [knot]);
    assert.equal(green.status, 'ok');
    assert.deepEqual(formatReport(green), [
      '✔ MX  found: 10 mx.new.example  expected: 10 mx.new.example',
      '✔ SPF  found: v=spf1 include:_spf.old.example include:mx.new.example ~all  expected: include:mx.new.example',
    ]);
    assert.deepEqual(green.errors, []);
  });

  test('a name that does not exist is a definite error, not unknown', async () => {
    const report = await checkMailDns(`missing.${DOMAIN}`, EXPECTED, [knot]);
    assert.deepEqual(statuses(report), { mx: 'error', spf: 'error' });
    assert.deepEqual(report.checks.map((check) => check.found), [[], []]);
  });

  test('the SPF check is left out when no include is expected', async () => {
    const report = await checkMailDns(DOMAIN, { mx: EXPECTED.mx, spfIncludes: [] }, [knot]);
    assert.deepEqual(report.checks.map((check) => check.id), ['mx']);
  });

  test('a server that does not answer is skipped in favour of the next one', async () => {
    const report = await checkMailDns(DOMAIN, EXPECTED, [silent, knot], FAST);
    assert.notEqual(report.status, 'unknown');
    assert.equal(report.server, `127.0.0.1:${knot.port}`);
    assert.equal(report.errors.length, 2);
    assert.match(report.errors[0] ?? '', /no reply within 100 ms/);
  });

  test('a refusal (a server without the zone) is not taken as an answer', async () => {
    const report = await checkMailDns('elsewhere.example', EXPECTED, [knot], FAST);
    assert.equal(report.status, 'unknown');
    assert.match(report.errors.join('\n'), /answered REFUSED for elsewhere\.example MX/);
  });

  test('every server timing out gives unknown, quickly, with the reason printed', async () => {
    const started = Date.now();
    const report = await checkMailDns(DOMAIN, EXPECTED, [silent], FAST);
    assert.ok(Date.now() - started < 1000);
    assert.equal(report.status, 'unknown');
    assert.deepEqual(statuses(report), { mx: 'unknown', spf: 'unknown' });
    assert.equal(report.server, `127.0.0.1:${silent.port}`);
    const lines = formatReport(report);
    assert.equal(lines[0], '? MX  found: (no answer)  expected: 10 mx.new.example');
    assert.equal(lines[1], '? SPF  found: (no answer)  expected: include:mx.new.example');
    assert.match(lines[2] ?? '', /^ {2}DNS query for example\.test (MX|TXT) at 127\.0\.0\.1:\d+ failed: no reply within 100 ms/);
  });
});
