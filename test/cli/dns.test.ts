// `cutover dns …` as an admin runs it: output, --json, exit codes (0 ok, 1 errors, 2 could not
// run), the provider commands, and a whole migration whose DNS step changes the zone itself.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startBind, type BindInstance } from '../../server/devservers/bind.ts';
import { startKnot, type KnotInstance } from '../../server/devservers/knot.ts';
import { query } from '../../server/dns/transport.ts';
import type { MxData } from '../../server/dns/wire.ts';
import { startSilentServer, type FakeServer } from '../dns/fake-servers.ts';
import { cutover, tempDataDir } from '../support/cli.ts';
import { DOMAIN, NEW_MX, NEW_SPF, OLD_MX, startLandscape, writePlatformConfig, type Landscape } from '../support/platforms.ts';

const PLATFORM_ZONE = ['mx0 IN A 192.0.2.10', 'mx1 IN A 192.0.2.11', 'spf IN TXT "v=spf1 ip4:192.0.2.0/28 -all"'];
const GOOD = ['@ IN MX 1 mx0.platform.example.', '@ IN MX 5 mx1.platform.example.', '@ IN TXT "v=spf1 include:spf.platform.example ~all"', '_dmarc IN TXT "v=DMARC1; p=reject"'];
const OLD = ['@ IN MX 10 mx.old.example.net.', '@ IN TXT "v=spf1 include:spf.old.example.net -all"'];
const FLAGS = ['--mx', '1:mx0.platform.example', '--mx', '5:mx1.platform.example', '--spf-include', 'spf.platform.example', '--spf-ip', '192.0.2.3'];

async function mx(port: number): Promise<string[]> {
  const response = await query({ host: '127.0.0.1', port }, DOMAIN, 'MX', { recursionDesired: false });
  return response.answers.map((r) => `${(r.data as MxData).preference} ${(r.data as MxData).exchange}`).sort();
}

describe('cutover dns check', { timeout: 90_000 }, () => {
  let good: BindInstance;
  let old: BindInstance;
  let silent: FakeServer;
  const dataDir = tempDataDir();
  before(async () => {
    [good, old, silent] = await Promise.all([
      startBind({ zones: [{ zone: DOMAIN, records: GOOD }, { zone: 'platform.example', records: PLATFORM_ZONE }] }),
      startBind({ zones: [{ zone: DOMAIN, records: OLD }, { zone: 'platform.example', records: PLATFORM_ZONE }, { zone: 'example.net', records: ['mx.old IN A 198.51.100.25', 'spf.old IN TXT "v=spf1 ip4:198.51.100.0/24 -all"'] }] }),
      startSilentServer(),
    ]);
  });
  after(async () => { await Promise.all([good?.stop(), old?.stop(), silent?.stop()]); });

  test('all green: one line per check, exit 0, and the time it took', async (t) => {
    const started = Date.now();
    const r = await cutover(['dns', 'check', DOMAIN, ...FLAGS, '--nameserver', `127.0.0.1:${good.port}`], { dataDir });
    const wall = Date.now() - started;
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines[0], `example.test: zone example.test, records read from 127.0.0.1:${good.port}`);
    const checks = lines.filter((l) => /^[✔✖!?] /.test(l));
    assert.deepEqual(checks.map((l) => l.split('  ')[0]), ['✔ MX', '✔ MX hosts', '✔ SPF', '✔ SPF limits', '✔ SPF check_host()', '✔ DMARC', '✔ Propagation', '✔ Resolvers']);
    assert.ok(lines.includes('✔ SPF check_host()  found: 192.0.2.3: pass  expected: 192.0.2.3: pass'));
    assert.ok(lines.includes('✔ Propagation  found: authoritative: 1/1 updated  expected: authoritative: 1/1 updated'));
    const elapsed = Number(/^checked in (\d+) ms$/.exec(lines.at(-1)!)?.[1]);
    assert.ok(elapsed < 1_000, `the check itself took ${elapsed} ms`);
    t.diagnostic(`dns check against local BIND: ${elapsed} ms for the checks, ${wall} ms for the whole command`);
  });

  test('--json gives the same as data, with the exit code', async () => {
    const r = await cutover(['dns', 'check', DOMAIN, ...FLAGS, '--nameserver', `127.0.0.1:${good.port}`, '--json'], { dataDir });
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.exitCode, 0);
    assert.equal(report.status, 'ok');
    assert.equal(report.zone, DOMAIN);
    assert.deepEqual(report.checks.map((c: { id: string }) => c.id), ['mx', 'mx-hosts', 'spf', 'spf-limits', 'spf-auth', 'dmarc', 'propagation', 'resolvers']);
    assert.deepEqual(report.checks[0], { id: 'mx', title: 'MX', expected: ['1 mx0.platform.example', '5 mx1.platform.example'], gate: 'ok', status: 'ok', found: ['1 mx0.platform.example', '5 mx1.platform.example'] });
    assert.deepEqual(report.authoritative.map((s: { state: string; serial: number }) => [s.state, s.serial]), [['updated', 2024010101]]);
    assert.equal(typeof report.elapsedMs, 'number');
  });

  test('errors: exit 1, each with found, expected and the exact fix', async () => {
    const r = await cutover(['dns', 'check', DOMAIN, ...FLAGS, '--nameserver', `127.0.0.1:${old.port}`], { dataDir });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^✖ MX {2}found: 10 mx\.old\.example\.net {2}expected: 1 mx0\.platform\.example, 5 mx1\.platform\.example {2}fix: publish exactly: example\.test\. 3600 IN MX 1 mx0\.platform\.example\.; example\.test\. 3600 IN MX 5 mx1\.platform\.example\. — remove: example\.test\. IN MX 10 mx\.old\.example\.net\.$/m);
    assert.match(r.stdout, /^✖ SPF {2}found: v=spf1 include:spf\.old\.example\.net -all {2}expected: include:spf\.platform\.example {2}fix: publish exactly: example\.test\. 3600 IN TXT "v=spf1 include:spf\.old\.example\.net include:spf\.platform\.example -all" — remove: example\.test\. IN TXT "v=spf1 include:spf\.old\.example\.net -all"$/m);
    assert.match(r.stdout, /^✖ SPF check_host\(\) {2}found: 192\.0\.2\.3: fail/m);
    assert.match(r.stdout, /^✖ Propagation {2}found: authoritative: 0\/1 updated/m);
  });

  test('could not run: exit 2 (no answer, bad input, unknown platform, nothing to expect)', async () => {
    const silentRun = await cutover(['dns', 'check', DOMAIN, ...FLAGS, '--nameserver', `127.0.0.1:${silent.port}`, '--timeout', '1s'], { dataDir });
    assert.equal(silentRun.code, 2, silentRun.stdout + silentRun.stderr);
    assert.match(silentRun.stdout, /^\? MX {2}found: \(no answer\)/m);
    const cases: Array<[string[], RegExp]> = [
      [['dns', 'check', DOMAIN, '--nameserver', `127.0.0.1:${good.port}`], /give the destination platform \(--platform NAME\) or the records to expect/],
      [['dns', 'check', DOMAIN, '--mx', 'mx0.platform.example'], /--mx: "mx0\.platform\.example" is not PRIORITY:HOST/],
      [['dns', 'check', 'not a domain', ...FLAGS], /"not a domain" is not a valid domain name/],
      [['dns', 'check', DOMAIN, '--platform', 'nope'], /PLATFORM_UNKNOWN/],
      [['dns', 'check', DOMAIN, ...FLAGS, '--nameserver', 'ns1.example.net'], /is not a name server address/],
      [['dns', 'check', DOMAIN, '--bogus'], /Unknown option '--bogus'/],
      [['dns', 'frobnicate'], /unknown dns command "frobnicate"/],
    ];
    for (const [args, message] of cases) {
      const r = await cutover(args, { dataDir });
      assert.equal(r.code, 2, `${args.join(' ')}\n${r.stdout}${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
    }
    const json = await cutover(['dns', 'check', DOMAIN, '--json'], { dataDir });
    assert.equal(JSON.parse(json.stdout).error.code, 'INPUT_INVALID');
  });

  test('--platform NAME takes the expectations from the platform, --old-platform flags its leftovers', async () => {
    const config = (mxHost: string, spf: string) => ({
      database: { client: 'sqlite3', filename: path.join(dataDir, 'unused.sqlite') }, imap: { host: '127.0.0.1', port: 143, security: 'none' },
      mailHost: mxHost, expectedDns: { mx: [{ priority: 10, exchange: mxHost }], spfIncludes: [spf] },
    });
    writeFileSync(path.join(dataDir, 'new.json'), JSON.stringify({ ...config('mx0.platform.example', 'spf.platform.example'), expectedDns: { mx: [{ priority: 1, exchange: 'mx0.platform.example' }, { priority: 5, exchange: 'mx1.platform.example' }], spfIncludes: ['spf.platform.example'] } }));
    writeFileSync(path.join(dataDir, 'old.json'), JSON.stringify(config('mx.old.example.net', 'spf.old.example.net')));
    for (const name of ['new', 'old']) assert.equal((await cutover(['platform', 'add', name, '--plugin', 'postfixadmin', '--config', path.join(dataDir, `${name}.json`), '--no-test'], { dataDir })).code, 0);
    const ok = await cutover(['dns', 'check', DOMAIN, '--platform', 'new', '--nameserver', `127.0.0.1:${good.port}`], { dataDir });
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    const red = await cutover(['dns', 'check', DOMAIN, '--platform', 'new', '--old-platform', 'old', '--nameserver', `127.0.0.1:${old.port}`], { dataDir });
    assert.equal(red.code, 1);
    assert.match(red.stdout, /found: 10 mx\.old\.example\.net \(old platform\)/);
    assert.match(red.stdout, /10 mx\.old\.example\.net is the old platform's: remove it/);
  });
});

describe('cutover dns plan / ttl with an rfc2136 provider', { timeout: 60_000 }, () => {
  let knot: KnotInstance;
  const dataDir = tempDataDir();
  before(async () => {
    knot = await startKnot({ zone: DOMAIN, records: OLD });
    const secretFile = path.join(dataDir, 'tsig.key');
    writeFileSync(secretFile, `${knot.tsig.secret}\n`, { mode: 0o600 });
    writeFileSync(path.join(dataDir, 'zone.json'), JSON.stringify({ server: `127.0.0.1:${knot.port}`, key: { name: 'update-key.', secretFile } }));
    assert.equal((await cutover(['platform', 'add', 'zone', '--plugin', 'rfc2136', '--config', path.join(dataDir, 'zone.json')], { dataDir })).code, 0);
  });
  after(() => knot?.stop());

  test('plan shows the change, --apply makes it, a second plan has nothing left', async () => {
    const flags = ['--mx', '10:mx.new.example.net', '--spf-include', 'spf.new.example.net', '--provider', 'zone'];
    const dry = await cutover(['dns', 'plan', DOMAIN, ...flags], { dataDir });
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /example\.test: would apply in zone example\.test, in one update:\n {2}MX of the destination: example\.test\. MX 10 mx\.old\.example\.net\. → 10 mx\.new\.example\.net\.\n {2}SPF: v=spf1 include:spf\.old\.example\.net -all → v=spf1 include:spf\.old\.example\.net include:spf\.new\.example\.net -all/);
    assert.deepEqual(await mx(knot.port), ['10 mx.old.example.net']);
    const applied = await cutover(['dns', 'plan', DOMAIN, ...flags, '--apply'], { dataDir });
    assert.equal(applied.code, 0, applied.stderr);
    assert.deepEqual(await mx(knot.port), ['10 mx.new.example.net']);
    assert.match((await cutover(['dns', 'plan', DOMAIN, ...flags], { dataDir })).stdout, /nothing to change in zone example\.test/);
    const ttl = await cutover(['dns', 'ttl', DOMAIN, '--provider', 'zone', '--set', '1h'], { dataDir });
    assert.match(ttl.stdout, /example\.test: TTL set to 3600 s \(was up to 300 s\)/);
    const response = await query({ host: '127.0.0.1', port: knot.port }, DOMAIN, 'MX', { recursionDesired: false });
    assert.deepEqual(response.answers.map((r) => r.ttl), [3600]);
  });

  test('a provider that is not one, or a key the server refuses, is said clearly', async () => {
    writeFileSync(path.join(dataDir, 'bad.json'), JSON.stringify({ server: `127.0.0.1:${knot.port}`, key: { name: 'update-key.', secret: Buffer.alloc(32, 5).toString('base64') } }));
    assert.equal((await cutover(['platform', 'add', 'bad', '--plugin', 'rfc2136', '--config', path.join(dataDir, 'bad.json')], { dataDir })).code, 0);
    const refused = await cutover(['dns', 'plan', DOMAIN, '--mx', '10:mx.other.example', '--provider', 'bad', '--apply'], { dataDir });
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /error \[DNS_TSIG_REJECTED\]: The DNS server 127\.0\.0\.1:\d+ refused the update of example\.test signed with key update-key\.: BADSIG/);
    assert.ok(!refused.stderr.includes(Buffer.alloc(32, 5).toString('base64')));
    const missing = await cutover(['dns', 'plan', DOMAIN, '--mx', '10:mx.other.example'], { dataDir });
    assert.match(missing.stderr, /--provider NAME is required/);
  });
});

describe('a migration whose DNS step changes the zone itself', { timeout: 240_000 }, () => {
  let land: Landscape;
  const dataDir = tempDataDir();
  before(async () => {
    land = await startLandscape({ accounts: [{ address: 'alice@example.test', password: 'alice-pw' }] });
  });
  after(() => land?.stop());

  test('no manual DNS action: the rfc2136 provider applies MX and SPF, every authoritative server is watched, the migration finishes', async () => {
    for (const [name, inst, mailHost] of [['old', land.old, OLD_MX], ['new', land.new, NEW_MX]] as const) {
      const r = await cutover(['platform', 'add', name, '--plugin', 'postfixadmin', '--config', writePlatformConfig(inst, dataDir, name, mailHost)], { dataDir });
      assert.equal(r.code, 0, r.stderr);
    }
    const secretEnv = 'CUTOVER_TEST_TSIG_SECRET';
    writeFileSync(path.join(dataDir, 'zone.json'), JSON.stringify({ server: `127.0.0.1:${land.dns.port}`, zones: [DOMAIN], key: { name: 'update-key.', secretEnv } }));
    const env = { [secretEnv]: land.dns.tsig.secret };
    assert.equal((await cutover(['platform', 'add', 'zone', '--plugin', 'rfc2136', '--config', path.join(dataDir, 'zone.json')], { dataDir, env })).code, 0);
    const notDns = await cutover(['migrate', '--from', 'old', '--to', 'new', '--domain', DOMAIN, '--dns-provider', 'old'], { dataDir });
    assert.equal(notDns.code, 2);
    assert.match(notDns.stderr, /DNS_PROVIDER_UNSUITABLE.*its plugin postfixadmin is not a DNS provider/);

    const migration = await cutover(['migrate', '--from', 'old', '--to', 'new', '--domain', DOMAIN, '--name', 'auto-dns', '--dns-provider', 'zone',
      '--nameserver', `127.0.0.1:${land.dns.port}`, '--overlap', '0', '--dns-recheck', '1', '--wait'], { dataDir, env, timeoutMs: 200_000 });
    assert.equal(migration.code, 0, migration.stdout + migration.stderr);
    assert.match(migration.stdout, /domain dns-cutover dns-applied: changed through zone in one update: MX of the destination: example\.test\. MX 10 mx\.old\.example\.net\. → 10 mx\.new\.example\.net\.; SPF: /);
    assert.match(migration.stdout, /domain dns-cutover done: MX and SPF of example\.test point to the destination \(authoritative: 1\/1 updated\)/);
    assert.doesNotMatch(migration.stdout, /confirmed|waiting for the DNS/);
    assert.match(migration.stdout, /alice@example\.test\s+done at finalize/);
    assert.deepEqual(await mx(land.dns.port), [`10 ${NEW_MX}`]);
    const txt = await query({ host: '127.0.0.1', port: land.dns.port }, DOMAIN, 'TXT', { recursionDesired: false });
    assert.deepEqual(txt.answers.map((r) => (r.data as Buffer[]).join('')), [`v=spf1 include:spf.old.example.net include:${NEW_SPF} -all`]);

    const recheck = await cutover(['dns', 'recheck', '--project', 'auto-dns', '--domain', DOMAIN], { dataDir });
    assert.equal(recheck.code, 0, recheck.stdout + recheck.stderr);
    assert.match(recheck.stdout, /✔ MX {2}found: 10 mx\.new\.example\.net/);
    assert.match(recheck.stdout, /0 waiting migration\(s\) of example\.test will look again/);
  });
});
