import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { addDomain, addMailbox } from '../../server/devservers/dovecot.ts';
import { freePort } from '../../server/devservers/ports.ts';
import { cutover, tempDataDir } from '../support/cli.ts';
import { canLogin, rawMessage, seed } from '../support/mail.ts';
import { DOMAIN, NEW_DNS, NEW_MX, OLD_MX, startLandscape, writePlatformConfig, type Landscape, type PlatformOverrides } from '../support/platforms.ts';

let land: Landscape;
before(async () => {
  land = await startLandscape({ accounts: [{ address: 'alice@example.test', password: 'alice-pw' }], dns: NEW_DNS });
  await seed(land.old, 'alice@example.test', [{ folder: 'INBOX', raw: rawMessage({ subject: 'x', body: 'z'.repeat(5000) }) }]);
  await addDomain(land.old, 'empty.test');
});
after(async () => { await land?.stop(); });

async function withPlatforms(oldOverrides: PlatformOverrides = {}, newOverrides: PlatformOverrides = {}): Promise<string> {
  const dataDir = tempDataDir();
  for (const [name, inst, mx, o] of [['old', land.old, OLD_MX, oldOverrides], ['new', land.new, NEW_MX, newOverrides]] as const) {
    const r = await cutover(['platform', 'add', name, '--plugin', 'postfixadmin', '--config', writePlatformConfig(inst, dataDir, name, mx, o)], { dataDir });
    assert.equal(r.code, 0, r.stderr);
  }
  return dataDir;
}

async function projects(dataDir: string): Promise<unknown[]> {
  const r = await cutover(['status', '--json'], { dataDir });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

function migrateArgs(extra: string[] = []): string[] {
  return ['migrate', '--from', 'old', '--to', 'new', '--domain', DOMAIN, '--wait', '--json', '--overlap', '0', '--nameserver', `127.0.0.1:${land.dns.port}`, ...extra];
}

test('an unknown platform is named, exits 2 and creates nothing', async () => {
  const dataDir = await withPlatforms();
  const r = await cutover(['migrate', '--from', 'nope', '--to', 'new', '--domain', DOMAIN], { dataDir });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /PLATFORM_UNKNOWN.*No platform named "nope"/);
  assert.deepEqual(await projects(dataDir), []);
});

test('a malformed platform config is refused with the bad fields named, and not stored', async () => {
  const dataDir = tempDataDir();
  const broken = path.join(dataDir, 'broken.json');
  writeFileSync(broken, '{ "database": ');
  let r = await cutover(['platform', 'add', 'old', '--plugin', 'postfixadmin', '--config', broken], { dataDir });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /CONFIG_INVALID.*not valid JSON/);
  writeFileSync(broken, JSON.stringify({ database: { client: 'sqlite3', filename: 'x' }, imap: { host: 'mail.example.net', port: '143', security: 'none' }, expectedDns: { mx: [] } }));
  r = await cutover(['platform', 'add', 'old', '--plugin', 'postfixadmin', '--config', broken], { dataDir });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /imap\.port/);
  assert.match(r.stderr, /mailHost/);
  assert.match(r.stderr, /expectedDns\.mx/);
  r = await cutover(['platform', 'add', 'old', '--plugin', 'no-such-plugin', '--config', broken], { dataDir });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /PLUGIN_UNKNOWN.*postfixadmin/);
  r = await cutover(['platform', 'add', 'old', '--plugin', 'postfixadmin', '--config', path.join(dataDir, 'missing.json')], { dataDir });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no such file/);
  assert.equal((await cutover(['platform', 'list', '--json'], { dataDir })).stdout.trim(), '[]');
});

test('an unreachable IMAP host is refused at platform add with exit 3', async () => {
  const dataDir = tempDataDir();
  const r = await cutover(['platform', 'add', 'old', '--plugin', 'postfixadmin', '--config', writePlatformConfig(land.old, dataDir, 'old', OLD_MX, { port: await freePort() })], { dataDir });
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /HOST_UNREACHABLE.*Cannot reach 127\.0\.0\.1/);
  assert.equal((await cutover(['platform', 'list', '--json'], { dataDir })).stdout.trim(), '[]');
});

test('a domain without accounts, or unknown on the source, is refused before anything is created', async () => {
  const dataDir = await withPlatforms();
  let r = await cutover(['migrate', '--from', 'old', '--to', 'new', '--domain', 'empty.test'], { dataDir });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /DOMAIN_NO_ACCOUNTS.*empty\.test has no active accounts/);
  r = await cutover(['migrate', '--from', 'old', '--to', 'new', '--domain', 'unknown.test'], { dataDir });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /DOMAIN_UNKNOWN/);
  r = await cutover(['migrate', '--from', 'old', '--to', 'new', '--domain', 'not a domain'], { dataDir });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /not a valid domain name/);
  r = await cutover(['migrate', '--from', 'old', '--to', 'new', '--domain', DOMAIN, '--overlap', 'soon'], { dataDir });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--overlap: "soon" is not a duration/);
  assert.deepEqual(await projects(dataDir), []);
});

test('a wrong password stops the mailbox with words an admin understands; retry after the fix completes it', { timeout: 60_000 }, async () => {
  const dataDir = await withPlatforms({ masterPassword: 'wrong' });
  const r = await cutover(migrateArgs(['--name', 'pw']), { dataDir });
  assert.equal(r.code, 1);
  const m = JSON.parse(r.stdout).mailboxes[0];
  assert.equal(m.state, 'failed');
  assert.equal(m.step, 'preflight');
  assert.deepEqual(m.error, { code: 'AUTH_FAILED', message: 'Login refused by 127.0.0.1: wrong user name or password.' });
  assert.equal(await canLogin(land.old, 'alice@example.test', 'alice-pw'), true, 'nothing was renamed');
  // The admin fixes the password file the platform config points to, then retries the step.
  writeFileSync(path.join(dataDir, 'old-master.pass'), land.old.masterPassword);
  assert.equal((await cutover(['retry', 'alice@example.test'], { dataDir })).code, 0);
  const resumed = await cutover(['run', '--until-idle'], { dataDir });
  assert.equal(resumed.code, 0, resumed.stderr);
  const status = JSON.parse((await cutover(['status', 'pw', '--json'], { dataDir })).stdout);
  assert.equal(status.mailboxes[0].state, 'done');
});

test('a destination too small for the mailbox stops it at preflight', { timeout: 60_000 }, async () => {
  const fresh = await startLandscape({ accounts: [{ address: 'carol@example.test', password: 'c' }], dns: NEW_DNS });
  try {
    await seed(fresh.old, 'carol@example.test', [{ folder: 'INBOX', raw: rawMessage({ subject: 'big', body: 'q'.repeat(20_000) }) }]);
    const dataDir = tempDataDir();
    for (const [name, inst, mx, o] of [['old', fresh.old, OLD_MX, {}], ['new', fresh.new, NEW_MX, { maxMailboxBytes: 10_000 }]] as const) {
      assert.equal((await cutover(['platform', 'add', name, '--plugin', 'postfixadmin', '--config', writePlatformConfig(inst, dataDir, name, mx, o)], { dataDir })).code, 0);
    }
    const r = await cutover(['migrate', '--from', 'old', '--to', 'new', '--domain', DOMAIN, '--wait', '--json', '--nameserver', `127.0.0.1:${fresh.dns.port}`], { dataDir });
    assert.equal(r.code, 1);
    const m = JSON.parse(r.stdout).mailboxes[0];
    assert.equal(m.error.code, 'QUOTA_TOO_SMALL');
    assert.match(m.error.message, /holds 20\.\d KB but the destination allows only 10\.0 KB/);
  } finally {
    await fresh.stop();
  }
});

test('a destination address taken by someone else stops the mailbox before the source is touched', { timeout: 60_000 }, async () => {
  const fresh = await startLandscape({ accounts: [{ address: 'dave@example.test', password: 'd' }], dns: NEW_DNS });
  try {
    await addDomain(fresh.new, DOMAIN);
    await addMailbox(fresh.new, 'dave@example.test', 'someone-else');
    const dataDir = tempDataDir();
    for (const [name, inst, mx] of [['old', fresh.old, OLD_MX], ['new', fresh.new, NEW_MX]] as const) {
      assert.equal((await cutover(['platform', 'add', name, '--plugin', 'postfixadmin', '--config', writePlatformConfig(inst, dataDir, name, mx)], { dataDir })).code, 0);
    }
    const r = await cutover(['migrate', '--from', 'old', '--to', 'new', '--domain', DOMAIN, '--wait', '--json', '--nameserver', `127.0.0.1:${fresh.dns.port}`], { dataDir });
    assert.equal(r.code, 1);
    const m = JSON.parse(r.stdout).mailboxes[0];
    assert.equal(m.error.code, 'DEST_ADDRESS_TAKEN');
    assert.match(m.error.message, /dave@example\.test already exists on platform destination and was not created by this migration/);
    assert.equal(await canLogin(fresh.old, 'dave@example.test', 'd'), true, 'the source account was not renamed');
    assert.equal(await canLogin(fresh.new, 'dave@example.test', 'someone-else'), true, 'the other account is untouched');
  } finally {
    await fresh.stop();
  }
});

test('a host that goes away mid-migration is retried with a persisted backoff', { timeout: 60_000 }, async () => {
  // The IMAP service dies but its account database stays: keepDir leaves the SQLite file behind.
  const fresh = await startLandscape({ accounts: [{ address: 'erin@example.test', password: 'e' }], dns: NEW_DNS, old: { keepDir: true } });
  const dataDir = tempDataDir();
  for (const [name, inst, mx] of [['old', fresh.old, OLD_MX], ['new', fresh.new, NEW_MX]] as const) {
    assert.equal((await cutover(['platform', 'add', name, '--plugin', 'postfixadmin', '--config', writePlatformConfig(inst, dataDir, name, mx)], { dataDir })).code, 0);
  }
  assert.equal((await cutover(['migrate', '--from', 'old', '--to', 'new', '--domain', DOMAIN, '--name', 'flaky', '--nameserver', `127.0.0.1:${fresh.dns.port}`], { dataDir })).code, 0);
  await fresh.old.stop();
  try {
    const started = Date.now();
    // --max-wait 0: return at once instead of waiting for the retry (due in seconds).
    const idle = await cutover(['run', '--until-idle', '--max-wait', '0'], { dataDir });
    assert.equal(idle.code, 0);
    assert.match(idle.stderr, /left behind: 1 retrying \(next at /);
    const m = JSON.parse((await cutover(['status', 'flaky', '--json'], { dataDir })).stdout).mailboxes[0];
    assert.equal(m.state, 'retrying');
    assert.equal(m.attempts, 1);
    assert.equal(m.error.code, 'HOST_UNREACHABLE');
    const { default: knexFactory } = await import('knex');
    const db = knexFactory({ client: 'sqlite3', connection: { filename: path.join(dataDir, 'cutover.sqlite') }, useNullAsDefault: true });
    try {
      const row = await db('mailboxes').first('next_run_at');
      assert.ok(Number(row.next_run_at) >= started + 3_000, 'the next try is scheduled seconds ahead, on the row');
    } finally {
      await db.destroy();
    }
  } finally {
    await fresh.stop();
    rmSync(fresh.old.dir, { recursive: true, force: true });
  }
});
