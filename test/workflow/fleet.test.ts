import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { connect, type Db } from '../../server/db/knex.ts';
import { cutover, tempDataDir } from '../support/cli.ts';
import { corpusFor } from '../support/corpus.ts';
import { testDatabase, testDatabaseEnv } from '../support/database.ts';
import { rawMessage, seed, snapshot, type FolderSnapshot } from '../support/mail.ts';
import { DOMAIN, NEW_DNS, NEW_MX, OLD_MX, startLandscape, writePlatformConfig, type Landscape } from '../support/platforms.ts';

// Two worker processes that act as two hosts (CUTOVER_WORKER_ID), sharing only the database.
const ACCOUNTS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'].map((local) => ({ address: `${local}@${DOMAIN}`, password: `${local}-pw` }));
const BULK = 300;
const LEASE_SECONDS = 3;

const running: Landscape[] = [];
const handles: Db[] = [];
after(async () => {
  for (const db of handles) await db.destroy();
  await Promise.all(running.map((l) => l.stop()));
});

interface Fleet { land: Landscape; dataDir: string; env: Record<string, string>; db: Db; sources: Map<string, FolderSnapshot[]> }

async function prepare(name: string): Promise<Fleet> {
  const land = await startLandscape({ accounts: ACCOUNTS, dns: NEW_DNS, old: { specialUse: false } });
  running.push(land);
  for (const { address } of ACCOUNTS) await seed(land.old, address, corpusFor(address).messages);
  await seed(land.old, ACCOUNTS[0]!.address, Array.from({ length: BULK }, (_, i) => ({ folder: 'INBOX', raw: rawMessage({ subject: `bulk ${i}`, body: `${'y'.repeat(76)}\r\n`.repeat(30) }) })));
  const sources = new Map<string, FolderSnapshot[]>();
  for (const { address } of ACCOUNTS) sources.set(address, await snapshot(land.old, address));
  const dataDir = tempDataDir();
  const env: Record<string, string> = { ...(await testDatabaseEnv()), CUTOVER_LEASE_SECONDS: String(LEASE_SECONDS) };
  for (const [platform, inst, mx] of [['old', land.old, OLD_MX], ['new', land.new, NEW_MX]] as const) {
    const r = await cutover(['platform', 'add', platform, '--plugin', 'postfixadmin', '--config', writePlatformConfig(inst, dataDir, platform, mx)], { dataDir, env });
    assert.equal(r.code, 0, r.stderr);
  }
  const r = await cutover(['migrate', '--from', 'old', '--to', 'new', '--domain', DOMAIN, '--overlap', '0', '--nameserver', `127.0.0.1:${land.dns.port}`, '--name', name], { dataDir, env });
  assert.equal(r.code, 0, r.stderr);
  const db = connect(dataDir, env.DATABASE_URL);
  handles.push(db);
  return { land, dataDir, env, db, sources };
}

const worker = (f: Fleet, host: string) => cutover(['run', '--until-idle', '--concurrency', '4'], { dataDir: f.dataDir, env: { ...f.env, CUTOVER_WORKER_ID: host }, timeoutMs: 240_000 });

function byContent(folders: FolderSnapshot[], mapping: Record<string, string> = {}): Map<string, string[]> {
  return new Map(folders.filter((f) => f.messages.length).map((f) => [mapping[f.path] ?? f.path, f.messages.map((m) => `${m.sha256} ${m.internalDate} ${m.flags.join(',')}`).sort()]));
}

async function assertExactEndState(f: Fleet): Promise<void> {
  const rows = await f.db('mailboxes').select('address', 'state', 'error_message').orderBy('address');
  assert.ok(rows.every((r) => r.state === 'done'), JSON.stringify(rows));
  for (const { address } of ACCOUNTS) {
    // Every message once: byte for byte, flags and dates, nothing missing, nothing twice.
    assert.deepEqual(byContent(await snapshot(f.land.new, address)), byContent(f.sources.get(address)!, corpusFor(address).mapping), address);
  }
  const expected = ACCOUNTS.reduce((n, a) => n + f.sources.get(a.address)!.reduce((m, folder) => m + folder.messages.length, 0), 0);
  assert.equal(Number((await f.db('ledger').count({ n: '*' }).first())!.n), expected, 'one ledger row per message');
  // Each account renamed once and created once: one event each, whoever ran it.
  for (const step of ['rename-source', 'create-destination']) {
    const done = await f.db('events').where({ step, outcome: 'done' }).count({ n: '*' }).first();
    assert.equal(Number(done!.n), ACCOUNTS.length, step);
  }
  const attach = await f.db('events').where({ step: 'attach-domain', outcome: 'done' }).whereNull('mailbox_id').count({ n: '*' }).first();
  assert.equal(Number(attach!.n), 1, 'attach-domain ran once for the domain');
}

test(`two workers on two "hosts" (${testDatabase}): the domain step runs once and every message lands once`, { timeout: 300_000 }, async () => {
  const f = await prepare('pair');
  const [a, b] = await Promise.all([worker(f, 'host-a'), worker(f, 'host-b')]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  await assertExactEndState(f);
  const hosts = await f.db('workers').pluck('host');
  assert.deepEqual([...new Set(hosts)].sort(), ['host-a', 'host-b']);
});

test(`a worker killed with SIGKILL mid-copy is taken over by the other host once its lease expires (${testDatabase})`, { timeout: 300_000 }, async () => {
  const f = await prepare('takeover');
  const a = worker(f, 'host-a');
  const bulky = await f.db('mailboxes').where({ address: ACCOUNTS[0]!.address }).first();
  const deadline = Date.now() + 120_000;
  for (;;) {
    const copied = Number((await f.db('ledger').where({ mailbox_id: bulky.id }).count({ n: '*' }).first())!.n);
    if (copied >= 30) break;
    assert.ok(Date.now() < deadline, 'the copy never started');
    await new Promise((r) => setTimeout(r, 20));
  }
  a.child.kill('SIGKILL');
  const killedAt = Date.now();
  assert.equal((await a).signal, 'SIGKILL');
  const held = await f.db('mailboxes').where({ id: bulky.id }).first();
  assert.match(held.locked_by, /^host-a:/, 'the killed worker held the mailbox mid-copy');
  assert.ok(Number(held.locked_until) > killedAt - LEASE_SECONDS * 1_000);

  const b = worker(f, 'host-b');
  let takeoverMs = 0;
  while (!takeoverMs) {
    const row = await f.db('mailboxes').where({ id: bulky.id }).first();
    if (row.locked_by?.startsWith('host-b:') || row.state === 'done') takeoverMs = Date.now() - killedAt;
    else await new Promise((r) => setTimeout(r, 25));
    assert.ok(Date.now() - killedAt < 60_000, 'never taken over');
  }
  console.log(`# takeover after SIGKILL on ${testDatabase}: ${takeoverMs} ms (lease ${LEASE_SECONDS} s)`);
  // Not before the lease of the killed holder ran out (its host is another one: no pid check helps).
  assert.ok(Date.now() >= Number(held.locked_until), 'the live lease of another host was respected');
  const result = await b;
  assert.equal(result.code, 0, result.stderr);
  await assertExactEndState(f);
  const workers = await f.db('workers').select('host', 'stopped_at');
  assert.deepEqual(workers.map((w) => [w.host, w.stopped_at === null]).sort(), [['host-a', true], ['host-b', false]], 'the killed worker never said it stopped');
});

before(() => { process.setMaxListeners(50); });
