import assert from 'node:assert/strict';
import path from 'node:path';
import { after, test } from 'node:test';
import knexFactory from 'knex';
import { cutover, tempDataDir, type CliResult } from '../support/cli.ts';
import { corpusFor } from '../support/corpus.ts';
import { rawMessage, seed, snapshot, type FolderSnapshot } from '../support/mail.ts';
import { DOMAIN, NEW_DNS, NEW_MX, OLD_MX, startLandscape, writePlatformConfig, type Landscape } from '../support/platforms.ts';

const ACCOUNTS = [
  { address: 'alice@example.test', password: 'alice-pw' },
  { address: 'bob@example.test', password: 'bob-pw' },
];
const MESSAGES_PER_ACCOUNT = corpusFor('x').messages.length;

const running: Landscape[] = [];
after(async () => { await Promise.all(running.map((l) => l.stop())); });

interface Prepared { land: Landscape; dataDir: string; sources: Map<string, FolderSnapshot[]> }

const BULK = 400;

async function prepare(bulk = 0): Promise<Prepared> {
  // DNS already points to the new host, so an undisturbed run goes straight through.
  const land = await startLandscape({ accounts: ACCOUNTS, dns: NEW_DNS, old: { specialUse: false } });
  running.push(land);
  for (const { address } of ACCOUNTS) await seed(land.old, address, corpusFor(address).messages);
  const filler = Array.from({ length: bulk }, (_, i) => ({ folder: 'INBOX', raw: rawMessage({ subject: `bulk ${i}`, body: `${'y'.repeat(76)}\r\n`.repeat(40) }), flags: i % 3 ? ['\\Seen'] : [], date: new Date(Date.UTC(2020, 0, 1) + i * 60_000) }));
  if (bulk) await seed(land.old, ACCOUNTS[0]!.address, filler);
  const sources = new Map<string, FolderSnapshot[]>();
  for (const { address } of ACCOUNTS) sources.set(address, await snapshot(land.old, address));
  const dataDir = tempDataDir();
  for (const [name, inst, mx] of [['old', land.old, OLD_MX], ['new', land.new, NEW_MX]] as const) {
    const r = await cutover(['platform', 'add', name, '--plugin', 'postfixadmin', '--config', writePlatformConfig(inst, dataDir, name, mx)], { dataDir });
    assert.equal(r.code, 0, r.stderr);
  }
  return { land, dataDir, sources };
}

function migrate(p: Prepared, env: Record<string, string> = {}): ReturnType<typeof cutover> {
  return cutover(['migrate', '--from', 'old', '--to', 'new', '--domain', DOMAIN, '--wait', '--json', '--overlap', '0',
    '--nameserver', `127.0.0.1:${p.land.dns.port}`, '--name', 'crash'], { dataDir: p.dataDir, env, timeoutMs: 120_000 });
}

function byContent(folders: FolderSnapshot[], mapping: Record<string, string> = {}): Map<string, string[]> {
  return new Map(folders.filter((f) => f.messages.length).map((f) => [mapping[f.path] ?? f.path, f.messages.map((m) => `${m.sha256} ${m.internalDate} ${m.flags.join(',')}`)]));
}

/** The end state an undisturbed run produces; every crash scenario must end exactly there. */
async function assertCleanEndState(p: Prepared, bulk = 0): Promise<void> {
  const status = await cutover(['status', 'crash', '--json'], { dataDir: p.dataDir });
  const report = JSON.parse(status.stdout);
  assert.deepEqual(report.mailboxes.map((m: { state: string }) => m.state), ['done', 'done'], status.stdout);
  for (const { address } of ACCOUNTS) {
    const local = address.split('@')[0];
    const temp = `${local}01@${DOMAIN}`;
    // Exactly one rename: the old mail is under the first temporary address, unchanged.
    assert.deepEqual(await snapshot(p.land.old, temp), p.sources.get(address));
    // Byte for byte, flags and dates, no duplicate and nothing missing.
    assert.deepEqual(byContent(await snapshot(p.land.new, address)), byContent(p.sources.get(address)!, corpusFor(address).mapping));
  }
  const oldDb = knexFactory({ client: 'sqlite3', connection: { filename: p.land.old.dbPath }, useNullAsDefault: true });
  const newDb = knexFactory({ client: 'sqlite3', connection: { filename: p.land.new.dbPath }, useNullAsDefault: true });
  const ours = knexFactory({ client: 'sqlite3', connection: { filename: path.join(p.dataDir, 'cutover.sqlite') }, useNullAsDefault: true });
  try {
    assert.deepEqual((await oldDb('mailbox').orderBy('username').pluck('username')), ['alice01@example.test', 'bob01@example.test'], 'no second rename');
    assert.deepEqual((await newDb('mailbox').orderBy('username').pluck('username')), ['alice@example.test', 'bob@example.test'], 'no second account');
    assert.equal(Number((await ours('ledger').count({ n: '*' }).first())!.n), 2 * MESSAGES_PER_ACCOUNT + bulk, 'one ledger row per message');
  } finally {
    await Promise.all([oldDb.destroy(), newDb.destroy(), ours.destroy()]);
  }
}

async function resumeAfterKill(p: Prepared, killed: CliResult, bulk = 0): Promise<void> {
  assert.equal(killed.signal, 'SIGKILL', `the process should have been killed:\n${killed.stdout}\n${killed.stderr}`);
  const resumed = await cutover(['run', '--until-idle'], { dataDir: p.dataDir, timeoutMs: 120_000 });
  assert.equal(resumed.code, 0, resumed.stderr);
  await assertCleanEndState(p, bulk);
}

test('an undisturbed run reaches the reference end state', { timeout: 120_000 }, async () => {
  const p = await prepare();
  const result = await migrate(p);
  assert.equal(result.code, 0, result.stderr);
  await assertCleanEndState(p);
});

// Points inside a step (after its effect, before anything records it) and between every
// step's effect and its persisted outcome.
const crashPoints = [
  'rename:after',
  'create:before',
  'create:after',
  'copy:after-append#1',
  `copy:after-append#${MESSAGES_PER_ACCOUNT + 3}`,
  'step-done:preflight',
  'step-done:attach-domain',
  'step-done:rename-source',
  'step-done:create-destination',
  'step-done:copy-mail',
  'step-done:verify',
  'step-done:dns-cutover',
  'step-done:delta-sync',
  'step-done:finalize',
];

for (const point of crashPoints) {
  test(`SIGKILL at ${point}, then run again: same end state`, { timeout: 120_000 }, async () => {
    const p = await prepare();
    await resumeAfterKill(p, await migrate(p, { CUTOVER_CRASH_AT: point }));
  });
}

test('SIGKILL from outside in the middle of the copy, then run again: same end state', { timeout: 180_000 }, async () => {
  const p = await prepare(BULK);
  const ledgerRows = async () => {
    const db = knexFactory({ client: 'sqlite3', connection: { filename: path.join(p.dataDir, 'cutover.sqlite') }, useNullAsDefault: true });
    try { return Number((await db('ledger').count({ n: '*' }).first())?.n ?? 0); } catch { return 0; } finally { await db.destroy(); }
  };
  const run = migrate(p);
  const deadline = Date.now() + 60_000;
  let rows = 0;
  while ((rows = await ledgerRows()) < 40) {
    assert.ok(Date.now() < deadline, 'the copy never started');
    await new Promise((r) => setTimeout(r, 20));
  }
  run.child.kill('SIGKILL');
  const killed = await run;
  assert.ok(rows < 2 * MESSAGES_PER_ACCOUNT + BULK, `killed before the copy finished (${rows} rows)`);
  await resumeAfterKill(p, killed, BULK);
});
