import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { accessRules } from '../../plugins/ovhcloud/access-rules.ts';
import { configSchema } from '../../plugins/ovhcloud/config.ts';
import { cutover, tempDataDir } from '../support/cli.ts';
import { corpusFor } from '../support/corpus.ts';
import { startOvhLandscape, seedAccounts, writeOvhConfig, type OvhLandscape } from '../support/fake-ovh/landscape.ts';
import { canLogin, rawMessage, seed, snapshot, type FolderSnapshot } from '../support/mail.ts';

const DOMAIN = 'example.test';
const ALICE = { address: `alice@${DOMAIN}`, password: 'Alice-Passw0rd' };

let land: OvhLandscape;

before(async () => {
  land = await startOvhLandscape({ zone: DOMAIN });
});
after(async () => { await land?.stop(); });

/** A source "Exchange" and a destination "MX Plan" (or E-mail Pro) service, added through the CLI. */
async function platforms(dataDir: string, opts: { domain: string; sourceType?: 'authoritative' | 'nonAuthoritative'; dest?: 'mxplan' | 'pro'; slots?: number; accounts: Array<{ address: string; password: string; usageMB?: number; aliases?: string[] }> }) {
  const state = land.fake.state;
  const tag = path.basename(dataDir).replace(/[^a-z0-9]/gi, '').slice(-6).toLowerCase();
  const source = state.addService({ family: 'exchange', name: `hosted-${tag}-1`, backend: land.oldBackend, domains: [{ name: opts.domain, type: opts.sourceType ?? 'nonAuthoritative' }], externalContacts: ['partner@elsewhere.test'] });
  await seedAccounts(land, source, opts.accounts);
  for (const a of opts.accounts) {
    const account = source.accounts.get(a.address)!;
    account.currentUsage = a.usageMB ?? 0;
    for (const alias of a.aliases ?? []) account.aliases.set(alias, { creationDate: new Date().toISOString(), taskPendingId: 0 });
  }
  const destFamily = opts.dest ?? 'mxplan';
  const dest = state.addService({
    family: destFamily, name: `${destFamily === 'pro' ? 'emailpro' : 'mxplan'}-${tag}-1`, backend: land.newBackend,
    domains: destFamily === 'mxplan' ? [{ name: opts.domain }] : [], slots: opts.slots ?? opts.accounts.length,
  });
  const src = writeOvhConfig(land, dataDir, 'exchange', { offer: 'exchange', service: source.name }, land.old);
  const dst = writeOvhConfig(land, dataDir, destFamily, { offer: destFamily, service: dest.name }, land.new);
  for (const [name, file] of [['exchange', src.file], ['dest', dst.file]] as const) {
    const r = await cutover(['platform', 'add', name, '--plugin', 'ovhcloud', '--config', file], { dataDir });
    assert.equal(r.code, 0, r.stderr);
  }
  const passwords = path.join(dataDir, 'passwords.csv');
  writeFileSync(passwords, `address,source_password\n${opts.accounts.map((a) => `${a.address},${a.password}`).join('\n')}\n`, { mode: 0o600 });
  return { source, dest, passwords, sourceCk: src.consumerKey };
}

function migrate(dataDir: string, domain: string, passwords: string, extra: string[] = [], env: Record<string, string> = {}) {
  return cutover(['migrate', '--from', 'exchange', '--to', 'dest', '--domain', domain, '--wait', '--json', '--overlap', '0', '--dns-recheck', '1',
    '--nameserver', `127.0.0.1:${land.dns.port}`, '--passwords', passwords, '--name', 'p', ...extra], { dataDir, env, timeoutMs: 200_000 });
}

type Report = { mailboxes: Array<{ address: string; state: string; step: string; tempAddress: string | null; error: { code: string; message: string } | null; newPassword?: string; folders: Array<{ source: string; copied: number }> }> };

async function status(dataDir: string): Promise<Report> {
  const r = await cutover(['status', 'p', '--json'], { dataDir });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

function mapped(folders: FolderSnapshot[], mapping: Record<string, string>): Map<string, FolderSnapshot['messages']> {
  return new Map(folders.filter((f) => f.messages.length).map((f) => [mapping[f.path] ?? f.path, f.messages]));
}

test('Exchange → MX Plan end to end through the CLI: rename, generated password, slot, aliases, copy, DNS, reset; and what it costs in API calls', { timeout: 300_000 }, async (t) => {
  const dataDir = tempDataDir();
  const { source, dest, passwords } = await platforms(dataDir, { domain: DOMAIN, accounts: [{ ...ALICE, aliases: [`a.smith@${DOMAIN}`] }] });
  const corpus = corpusFor(ALICE.address);
  await seed(land.old, ALICE.address, corpus.messages);
  const before = await snapshot(land.old, ALICE.address);

  land.fake.calls.length = 0;
  const result = await migrate(dataDir, DOMAIN, passwords, ['--reset-source']);
  assert.equal(result.code, 0, result.stderr + result.stdout);
  const calls = [...land.fake.calls];
  const report: Report = JSON.parse(result.stdout);
  const m = report.mailboxes[0]!;
  assert.equal(m.state, 'done');
  assert.equal(m.tempAddress, `alice01@${DOMAIN}`);

  // Source: renamed by PUT of login, given a generated password (not the user's), then reset into a free slot.
  const put = calls.find((c) => c.method === 'PUT' && c.path === `/email/exchange/${source.name}/service/${source.name}/account/${ALICE.address}`);
  assert.ok(put, 'rename by PUT');
  assert.ok(calls.some((c) => c.method === 'POST' && c.path.endsWith(`/account/alice01@${DOMAIN}/changePassword`) && c.status === 200), 'a password of cutover\'s own on the renamed account');
  assert.ok(calls.some((c) => c.method === 'DELETE' && c.path.endsWith(`/account/alice01@${DOMAIN}`)), 'reset of the old account');
  assert.ok(!source.accounts.has(ALICE.address) && !source.accounts.has(`alice01@${DOMAIN}`));
  assert.equal([...source.accounts.keys()].filter((a) => a.endsWith('@configureme.me')).length, 1, 'the reset account is a free slot again');
  assert.equal(await canLogin(land.old, `alice01@${DOMAIN}`), false, 'gone from the old IMAP server too');

  // Destination: the MX Plan domain non-authoritative relaying to OVHcloud, the slot configured, the password reported once, the alias recreated.
  const domain = dest.domains.get(DOMAIN)!;
  assert.equal(domain.type, 'nonAuthoritative');
  assert.equal(domain.mxRelay, 'mx1.mail.ovh.net');
  const account = dest.accounts.get(ALICE.address)!;
  assert.ok(account.configured);
  assert.equal([...dest.accounts.keys()].filter((a) => a.endsWith('@configureme.me')).length, 0);
  assert.match(m.newPassword ?? '', /^[A-Za-z0-9]{20}$/);
  assert.equal(account.password, m.newPassword);
  assert.ok(account.aliases.has(`a.smith@${DOMAIN}`), 'alias recreated on the destination');
  assert.equal(await canLogin(land.new, ALICE.address, m.newPassword), true);

  // The mail: every message byte for byte, flags and dates, into the mapped folders.
  const after = await snapshot(land.new, ALICE.address);
  assert.deepEqual(mapped(after, {}), mapped(before, corpus.mapping));

  // The figure for the closing note.
  const byCall = new Map<string, number>();
  for (const c of calls) byCall.set(`${c.method} ${c.template}`, (byCall.get(`${c.method} ${c.template}`) ?? 0) + 1);
  const polls = calls.filter((c) => c.method === 'GET' && /\/task\/\{id\}$/.test(c.template ?? '')).length;
  t.diagnostic(`API calls for one mailbox migration (cutover migrate, both platforms, every step): ${calls.length}, of which ${polls} task polls (tasks of ~100 ms polled every 50 ms+)`);
  for (const [k, n] of [...byCall].sort((a, b) => b[1] - a[1])) t.diagnostic(`  ${n} × ${k}`);
  writeFileSync(path.join(dataDir, 'api-calls.json'), JSON.stringify({ total: calls.length, byCall: Object.fromEntries(byCall) }, null, 2));
  assert.ok(calls.every((c) => c.status < 400 || c.status === 404), `every call accepted (404 = "absent" look-ups): ${JSON.stringify(calls.filter((c) => c.status >= 400 && c.status !== 404))}`);
  assert.ok(calls.length <= 120, `${calls.length} calls`);

  // The platform's own DNS dots next to cutover's checks.
  const dns = await cutover(['ovh', 'dns-status', '--platform', 'dest', '--domain', DOMAIN, '--nameserver', `127.0.0.1:${land.dns.port}`, '--authoritative', `127.0.0.1:${land.dns.port}`], { dataDir });
  assert.equal(dns.code, 0, dns.stderr);
  assert.match(dns.stdout, /dest's own diagnostic \(GET \/email\/mxplan\/.*\/domain\/example\.test\): MX NOT valid, SPF not reported, autodiscover SRV NOT valid/);
  assert.match(dns.stdout, /cutover's checks: /);
  assert.match(dns.stdout, /✔ MX +found: 1 mx0\.mail\.ovh\.net, 5 mx1\.mail\.ovh\.net/);
  assert.match(dns.stdout, /✔ SPF +found: v=spf1 include:mx\.ovh\.com ~all/);
});

test('an expired consumer key stops the migration before anything is created, and says how to get a new one', { timeout: 120_000 }, async () => {
  const dataDir = tempDataDir();
  const { passwords, sourceCk } = await platforms(dataDir, { domain: 'expired.test', accounts: [{ address: 'eve@expired.test', password: 'Eve-Passw0rd1' }] });
  land.fake.state.expire(sourceCk);
  const r = await migrate(dataDir, 'expired.test', passwords);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /error \[API_CREDENTIAL_INVALID\]: .*This credential is not valid.*cutover ovh credential --config FILE/);
  const projects = await cutover(['status', '--json'], { dataDir });
  assert.deepEqual(JSON.parse(projects.stdout), []);
});

test('a platform task that ends in error stops the mailbox with the task named; retry resumes it', { timeout: 200_000 }, async () => {
  const dataDir = tempDataDir();
  const bob = { address: 'bob@taskerr.test', password: 'Bob-Passw0rd1' };
  const { source, passwords } = await platforms(dataDir, { domain: 'taskerr.test', accounts: [bob] });
  await seed(land.old, bob.address, [{ folder: 'INBOX', raw: rawMessage({ subject: 'hello bob' }) }]);
  land.fake.state.failNextTask('setAccount');
  const r = await migrate(dataDir, 'taskerr.test', passwords, ['--dns-recheck', '1h']);
  assert.equal(r.code, 1);
  const m = (JSON.parse(r.stdout) as Report).mailboxes[0]!;
  assert.equal(m.state, 'failed');
  assert.equal(m.step, 'rename-source');
  assert.equal(m.error!.code, 'PLATFORM_TASK_FAILED');
  assert.match(m.error!.message, /task #\d+ \(setAccount for rename of bob@taskerr\.test to bob01@taskerr\.test\) ended "error"/);
  assert.ok(source.accounts.has(bob.address), 'the source account is untouched');

  assert.equal((await cutover(['retry', bob.address], { dataDir })).code, 0);
  assert.equal((await cutover(['run', '--until-idle'], { dataDir, timeoutMs: 150_000 })).code, 0);
  const after = (await status(dataDir)).mailboxes[0]!;
  assert.equal(after.step, 'dns-cutover', `${after.step} ${after.state} ${JSON.stringify(after.error)}`);
  assert.ok(source.accounts.has('bob01@taskerr.test'));
});

test('no free slot on the destination: preflight stops every mailbox with "order N more accounts", before anything is renamed', { timeout: 120_000 }, async () => {
  const dataDir = tempDataDir();
  const accounts = [{ address: 'carl@slots.test', password: 'Carl-Passw0rd1' }, { address: 'dora@slots.test', password: 'Dora-Passw0rd1' }];
  const { source, passwords } = await platforms(dataDir, { domain: 'slots.test', accounts, slots: 1 });
  const r = await migrate(dataDir, 'slots.test', passwords);
  assert.equal(r.code, 1);
  for (const m of (JSON.parse(r.stdout) as Report).mailboxes) {
    assert.equal(m.state, 'failed');
    assert.equal(m.step, 'preflight');
    assert.equal(m.error!.code, 'ACCOUNT_SLOTS_MISSING');
    assert.match(m.error!.message, /order 1 more account\(s\) \(1 free, 2 needed/);
  }
  for (const a of accounts) assert.ok(source.accounts.has(a.address), `${a.address} not renamed`);
  assert.equal(land.fake.calls.filter((c) => c.method === 'PUT' && c.path.includes('slots.test')).length, 0);
});

test('the domain is authoritative on the source: attach-domain names the fix; `cutover ovh domain-mode` applies it; retry goes on', { timeout: 200_000 }, async () => {
  const dataDir = tempDataDir();
  const fay = { address: 'fay@auth.test', password: 'Fay-Passw0rd1' };
  const { source, dest, passwords } = await platforms(dataDir, { domain: 'auth.test', sourceType: 'authoritative', dest: 'pro', accounts: [fay] });
  await seed(land.old, fay.address, [{ folder: 'INBOX', raw: rawMessage({ subject: 'hello fay' }) }]);
  const r = await migrate(dataDir, 'auth.test', passwords, ['--dns-recheck', '1h']);
  assert.equal(r.code, 1);
  const m = (JSON.parse(r.stdout) as Report).mailboxes[0]!;
  assert.equal(m.step, 'attach-domain');
  assert.equal(m.error!.code, 'DOMAIN_AUTHORITATIVE_ELSEWHERE');
  assert.match(m.error!.message, /authoritative domain detected/);
  assert.match(m.error!.message, /cutover ovh domain-mode --platform OTHER --domain auth\.test --non-authoritative/);
  assert.ok(source.accounts.has(fay.address), 'nothing renamed before the domain is attached');

  const fix = await cutover(['ovh', 'domain-mode', '--platform', 'exchange', '--domain', 'auth.test', '--non-authoritative'], { dataDir });
  assert.equal(fix.code, 0, fix.stderr);
  assert.equal(source.domains.get('auth.test')!.type, 'nonAuthoritative');
  assert.equal((await cutover(['retry', fay.address], { dataDir })).code, 0);
  assert.equal((await cutover(['run', '--until-idle'], { dataDir, timeoutMs: 150_000 })).code, 0);
  const after = (await status(dataDir)).mailboxes[0]!;
  assert.equal(after.step, 'dns-cutover', `${after.step} ${after.state} ${JSON.stringify(after.error)}`);
  assert.equal(dest.domains.get('auth.test')!.type, 'nonAuthoritative');
  assert.ok(dest.accounts.get(fay.address)?.configured, 'E-mail Pro slot configured');
});

test('a mailbox over the MX Plan 5 GB limit (as the platform reports it) fails preflight, nothing renamed', { timeout: 120_000 }, async () => {
  const dataDir = tempDataDir();
  const gus = { address: 'gus@big.test', password: 'Gus-Passw0rd12', usageMB: 6200 };
  const { source, passwords } = await platforms(dataDir, { domain: 'big.test', accounts: [gus] });
  const r = await migrate(dataDir, 'big.test', passwords);
  assert.equal(r.code, 1);
  const m = (JSON.parse(r.stdout) as Report).mailboxes[0]!;
  assert.equal(m.step, 'preflight');
  assert.equal(m.error!.code, 'QUOTA_TOO_SMALL');
  assert.match(m.error!.message, /holds 6\.2 GB but the destination allows only 5\.0 GB/);
  assert.ok(source.accounts.has(gus.address));
});

test('cutover ovh credential asks for exactly the rules cutover needs; check reports the key\'s state; secrets never on argv', { timeout: 60_000 }, async () => {
  const dataDir = tempDataDir();
  const app = land.fake.state.addApplication();
  const secretFile = path.join(dataDir, 'as');
  writeFileSync(secretFile, app.secret, { mode: 0o600 });
  const ckFile = path.join(dataDir, 'ck');
  const raw = { endpoint: land.fake.url, applicationKey: app.key, applicationSecretFile: secretFile, consumerKeyFile: ckFile, offer: 'mxplan', service: 'mxplan-any-1', zones: ['example.test'] };
  const file = path.join(dataDir, 'mx.json');
  writeFileSync(file, JSON.stringify(raw));

  const rules = await cutover(['ovh', 'rules', '--config', file, '--json'], { dataDir });
  assert.equal(rules.code, 0, rules.stderr);
  const expected = accessRules(configSchema.parse(raw));
  assert.deepEqual(JSON.parse(rules.stdout), expected);
  assert.ok(expected.some((r) => r.method === 'POST' && r.path === '/email/mxplan/mxplan-any-1/account/*/changePassword'));
  assert.ok(expected.every((r) => r.path !== '/*'), 'no blanket rule');

  const asked = await cutover(['ovh', 'credential', '--config', file, '--out', ckFile, '--json'], { dataDir });
  assert.equal(asked.code, 0, asked.stderr);
  const answer = JSON.parse(asked.stdout);
  assert.equal(answer.state, 'pendingValidation');
  assert.match(answer.validationUrl, /^https:\/\//);
  assert.equal(answer.consumerKey, undefined, 'written to the file, not printed');
  assert.equal(statSync(ckFile).mode & 0o777, 0o600);
  const ck = readFileSync(ckFile, 'utf8').trim();
  assert.deepEqual(land.fake.state.credentials.get(ck)!.rules, expected);
  const sent = land.fake.calls.filter((c) => c.path === '/auth/credential');
  assert.equal(sent.length, 1);

  const pending = await cutover(['ovh', 'check', '--config', file], { dataDir });
  assert.notEqual(pending.code, 0);
  assert.match(pending.stderr, /API_CREDENTIAL_INVALID/);
  land.fake.state.validate(ck);
  const checked = await cutover(['ovh', 'check', '--config', file, '--json'], { dataDir });
  assert.equal(checked.code, 0, checked.stderr);
  assert.deepEqual(JSON.parse(checked.stdout), { status: 'validated', expiration: null, missing: [], ok: true });

  const onArgv = await cutover(['ovh', 'credential', '--config', file, '--application-secret', 'x'], { dataDir });
  assert.equal(onArgv.code, 2, 'no option takes a secret');
});

for (const point of ['rename:after', 'rename:password-sealed', 'create:before', 'ovh:slot-configured', 'create:after', 'step-done:create-destination']) {
  test(`SIGKILL at ${point} in the OVHcloud flow, then run again: one rename, one slot, the same mail`, { timeout: 200_000 }, async () => {
    const dataDir = tempDataDir();
    const local = `crash-${point.replace(/[^a-z]/g, '')}`;
    const account = { address: `${local}@${DOMAIN}`, password: 'Crash-Passw0rd1' };
    const { source, dest, passwords } = await platforms(dataDir, { domain: DOMAIN, accounts: [account], slots: 2 });
    const messages = [1, 2, 3].map((i) => ({ folder: 'INBOX', raw: rawMessage({ subject: `${local} ${i}` }), flags: ['\\Seen'], date: new Date(Date.UTC(2024, 0, i)) }));
    await seed(land.old, account.address, messages);
    const before = await snapshot(land.old, account.address);
    const killed = await migrate(dataDir, DOMAIN, passwords, [], { CUTOVER_CRASH_AT: point });
    assert.equal(killed.signal, 'SIGKILL', `the process should have been killed:\n${killed.stdout}\n${killed.stderr}`);
    const resumed = await cutover(['run', '--until-idle'], { dataDir, timeoutMs: 150_000 });
    assert.equal(resumed.code, 0, resumed.stderr);
    const m = (await status(dataDir)).mailboxes[0]!;
    assert.equal(m.state, 'done', JSON.stringify(m));
    const renames = land.fake.calls.filter((c) => c.method === 'PUT' && c.path === `/email/exchange/${source.name}/service/${source.name}/account/${account.address}`);
    assert.equal(renames.length, 1, 'exactly one rename');
    assert.ok(source.accounts.has(`${local}01@${DOMAIN}`));
    assert.equal([...dest.accounts.values()].filter((a) => a.configured).length, 1, 'exactly one slot used');
    assert.deepEqual(mapped(await snapshot(land.new, account.address), {}), mapped(before, {}));
  });
}
