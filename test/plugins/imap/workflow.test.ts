import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import knexFactory from 'knex';
import { addDomain, addMailbox } from '../../../server/devservers/dovecot.ts';
import { cutover, tempDataDir, type CliResult } from '../../support/cli.ts';
import { corpusFor } from '../../support/corpus.ts';
import { canLogin, seed, snapshot, type FolderSnapshot } from '../../support/mail.ts';
import { DOMAIN, NEW_MX, OLD_MX, startLandscape, switchDnsToNew, type Landscape } from '../../support/platforms.ts';
import { writeAccountsCsv, writeImapConfig } from './support.ts';

// alice logs in with her address on both sides; carol's old login is another name (a cPanel-style
// user), and her new account does not exist yet: the admin creates it when the workflow asks.
const ALICE = { address: `alice@${DOMAIN}`, sourcePassword: 'alice-old', destPassword: 'alice-new' };
const CAROL = { address: `carol@${DOMAIN}`, sourceLogin: 'carol.login@legacy.example', sourcePassword: 'carol-old', destPassword: 'carol-new' };

let land: Landscape;
let dataDir: string;

before(async () => {
  land = await startLandscape({ accounts: [{ address: ALICE.address, password: ALICE.sourcePassword }], old: { specialUse: false } });
  await addDomain(land.old, 'legacy.example');
  await addMailbox(land.old, CAROL.sourceLogin, CAROL.sourcePassword);
  await addDomain(land.new, DOMAIN);
  await addMailbox(land.new, ALICE.address, ALICE.destPassword);
  await seed(land.old, ALICE.address, corpusFor(ALICE.address).messages);
  await seed(land.old, CAROL.sourceLogin, corpusFor(CAROL.address).messages);
  dataDir = tempDataDir();
  const oldConfig = writeImapConfig(land.old, dataDir, 'old', { mailHost: OLD_MX });
  const newConfig = writeImapConfig(land.new, dataDir, 'new', { mailHost: NEW_MX });
  for (const [name, file] of [['old', oldConfig], ['new', newConfig]]) {
    const added = await cutover(['platform', 'add', name!, '--plugin', 'imap', '--config', file!], { dataDir });
    assert.equal(added.code, 0, added.stderr);
  }
});

after(async () => { await land?.stop(); });

function events(): Promise<Array<{ mailbox_id: number | null; step: string; outcome: string; message: string }>> {
  const db = knexFactory({ client: 'sqlite3', connection: { filename: path.join(dataDir, 'cutover.sqlite') }, useNullAsDefault: true });
  return db('events').orderBy('id').finally(() => db.destroy());
}

/**
 * A project's mailboxes, read straight from the database: a `cutover status` process beside the
 * running migrate would also take the migrations lock at its start, a write that can collide with
 * the migrate's own first transaction.
 */
async function status(name: string): Promise<{ mailboxes: Array<{ address: string; state: string; step: string }> } | null> {
  const db = knexFactory({ client: 'sqlite3', connection: { filename: path.join(dataDir, 'cutover.sqlite') }, useNullAsDefault: true });
  try {
    const project = await db('projects').where({ name }).first();
    return project ? { mailboxes: await db('mailboxes').where({ project_id: project.id }).orderBy('address').select('address', 'state', 'step') } : null;
  } catch {
    return null;
  } finally {
    await db.destroy();
  }
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}: ${JSON.stringify((await status('e2e'))?.mailboxes)}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

test('migrate --accounts refuses a CSV whose row cannot log in, naming the row, and creates nothing', { timeout: 60_000 }, async () => {
  const csv = writeAccountsCsv(dataDir, 'bad.csv', [ALICE, { ...CAROL, sourcePassword: 'wrong' }]);
  const result = await cutover(['migrate', '--from', 'old', '--to', 'new', '--domain', DOMAIN, '--accounts', csv, '--name', 'bad'], { dataDir });
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /line 3 \(carol@example\.test\): source_login_failed \(login carol\.login@legacy\.example, host 127\.0\.0\.1\)/);
  assert.doesNotMatch(result.stderr, /line 2/, 'alice logs in on both sides');
  assert.equal(await status('bad'), null, 'no project was created');
  assert.equal((await events()).length, 0);
});

test('an imap source without a list of accounts is refused with the way out', async () => {
  const result = await cutover(['migrate', '--from', 'old', '--to', 'new', '--domain', DOMAIN, '--name', 'nolist'], { dataDir });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /ACCOUNTS_NEEDED.*cannot list the accounts of example\.test: give them with --accounts FILE/);
});

test('imap to imap through migrate --accounts: no rename, manual steps confirmed, every message moved', { timeout: 240_000 }, async () => {
  const before = new Map<string, FolderSnapshot[]>([[ALICE.address, await snapshot(land.old, ALICE.address)], [CAROL.address, await snapshot(land.old, CAROL.sourceLogin)]]);
  const csv = writeAccountsCsv(dataDir, 'accounts.csv', [ALICE, CAROL]);
  const started = Date.now();
  const migration: Promise<CliResult> = cutover(['migrate', '--from', 'old', '--to', 'new', '--domain', DOMAIN, '--accounts', csv, '--wait', '--json', '--overlap', '0',
    '--nameserver', `127.0.0.1:${land.dns.port}`, '--dns-recheck', '1', '--name', 'e2e'], { dataDir, timeoutMs: 220_000 });
  let confirmations = 0;

  // The destination cannot attach domains: a manual step for the whole domain, confirmed once.
  await until('attach-domain to need an admin', async () => (await status('e2e'))?.mailboxes.every((m) => m.step === 'attach-domain' && m.state === 'needs_admin') ?? false);
  const confirmDomain = await cutover(['confirm', '--project', 'e2e', '--domain', DOMAIN, '--step', 'attach-domain'], { dataDir });
  assert.equal(confirmDomain.code, 0, confirmDomain.stderr);
  confirmations++;

  // carol has no account on the destination yet: the admin creates it, then says Done.
  await until('carol to wait at create-destination', async () => (await status('e2e'))?.mailboxes.some((m) => m.address === CAROL.address && m.step === 'create-destination' && m.state === 'needs_admin') ?? false);
  await addMailbox(land.new, CAROL.address, CAROL.destPassword);
  const confirmCarol = await cutover(['confirm', CAROL.address], { dataDir });
  assert.equal(confirmCarol.code, 0, confirmCarol.stderr);
  confirmations++;

  await until('both mailboxes to wait at dns-cutover', async () => (await status('e2e'))?.mailboxes.every((m) => m.step === 'dns-cutover' && m.state === 'waiting') ?? false);
  await switchDnsToNew(land.dns);
  const result = await migration;
  const seconds = (Date.now() - started) / 1000;
  assert.equal(result.code, 0, result.stderr);
  const report = JSON.parse(result.stdout);
  assert.deepEqual(report.mailboxes.map((m: { state: string }) => m.state), ['done', 'done']);
  assert.ok(report.mailboxes.every((m: { tempAddress?: string | null }) => !m.tempAddress), 'no temporary address: nothing was renamed');

  // Nothing renamed on the old server; each account keeps its login and its mail.
  assert.equal(await canLogin(land.old, ALICE.address, ALICE.sourcePassword), true);
  assert.equal(await canLogin(land.old, CAROL.sourceLogin, CAROL.sourcePassword), true);
  for (const [address, login] of [[ALICE.address, ALICE.address], [CAROL.address, CAROL.sourceLogin]] as const) {
    assert.deepEqual(await snapshot(land.old, login), before.get(address), `${address}: the source is untouched`);
    const mapping = corpusFor(address).mapping;
    const expected = new Map(before.get(address)!.filter((f) => f.messages.length).map((f) => [mapping[f.path] ?? f.path, f.messages]));
    const copied = new Map((await snapshot(land.new, address)).filter((f) => f.messages.length).map((f) => [f.path, f.messages]));
    assert.deepEqual(copied, expected, `${address}: every message on the destination, byte for byte`);
  }

  const timeline = await events();
  const renames = timeline.filter((e) => e.step === 'rename-source' && e.outcome === 'done');
  assert.equal(renames.length, 2);
  for (const e of renames) assert.match(e.message, /^skipped: old \(imap\) → new \(imap\): no rename needed, each keeps its own \S+@example\.test during the overlap$/);
  const creates = timeline.filter((e) => e.step === 'create-destination');
  assert.ok(creates.some((e) => e.outcome === 'done' && /^skipped: alice@example\.test already exists on the destination and logs in$/.test(e.message)));
  assert.ok(creates.some((e) => e.outcome === 'manual' && /create carol@example\.test and the destination password given for it/.test(e.message)));
  assert.ok(creates.some((e) => e.outcome === 'confirm'));
  assert.ok(timeline.some((e) => e.step === 'attach-domain' && e.outcome === 'waiting' && /relay recipients it does not know to mx\.old\.example\.net/.test(e.message)));
  assert.ok(timeline.some((e) => e.step === 'finalize' && e.outcome === 'completed'));
  console.log(`imap → imap, 2 accounts: ${seconds.toFixed(1)} s from migrate to done, ${confirmations} manual confirmations`);
});

test('a source with a master user and a row whose login is not its address: preflight and the copy log in as that login', { timeout: 180_000 }, async () => {
  const DORA = { address: `dora@${DOMAIN}`, sourceLogin: 'dora.login@legacy.example', destPassword: 'dora-new' };
  await addMailbox(land.old, DORA.sourceLogin, 'dora-old-unknown-to-cutover');
  await addMailbox(land.new, DORA.address, DORA.destPassword);
  await seed(land.old, DORA.sourceLogin, corpusFor(DORA.address).messages);
  const added = await cutover(['platform', 'add', 'oldadmin', '--plugin', 'imap', '--config', writeImapConfig(land.old, dataDir, 'oldadmin', { admin: 'master-user', mailHost: OLD_MX })], { dataDir });
  assert.equal(added.code, 0, added.stderr);
  const csv = writeAccountsCsv(dataDir, 'dora.csv', [DORA]);
  const migration = cutover(['migrate', '--from', 'oldadmin', '--to', 'new', '--domain', DOMAIN, '--accounts', csv, '--wait', '--json', '--overlap', '0',
    '--nameserver', `127.0.0.1:${land.dns.port}`, '--dns-recheck', '1', '--name', 'dora'], { dataDir, timeoutMs: 160_000 });
  let ended: CliResult | undefined;
  void migration.then((r) => { ended = r; });
  const asked = async () => {
    assert.equal(ended, undefined, `migrate ended early: ${ended?.stdout}\n${ended?.stderr}`);
    return (await status('dora'))?.mailboxes.every((m) => m.step === 'attach-domain' && m.state === 'needs_admin') ?? false;
  };
  await until('attach-domain to need an admin', asked, 60_000);
  assert.equal((await cutover(['confirm', '--project', 'dora', '--domain', DOMAIN, '--step', 'attach-domain'], { dataDir })).code, 0);
  const result = await migration;
  assert.equal(result.code, 0, result.stderr);
  assert.equal(JSON.parse(result.stdout).mailboxes[0].state, 'done');
  const copied = (await snapshot(land.new, DORA.address)).reduce((n, f) => n + f.messages.length, 0);
  assert.equal(copied, corpusFor(DORA.address).messages.length);
});
