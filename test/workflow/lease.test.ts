import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import os from 'node:os';
import { after, before, test } from 'node:test';
import type { Db } from '../../server/db/knex.ts';
import { claimDue, LEASE_MS, releaseLease, renewLease, renewLeases, workerId } from '../../server/workflow/lease.ts';
import { insertMailbox, insertProject, tempDb, type TempDb } from '../db/fixtures.ts';
import { testDatabase } from '../support/database.ts';

let t: TempDb;
const extra: Db[] = [];

before(async () => { t = await tempDb(); });
after(async () => {
  for (const db of extra) await db.destroy();
  await t?.close();
});

/** A project of its own with `n` due mailboxes, so scenarios do not see each other's rows. */
async function scenario(n: number, patch: Record<string, unknown> = {}, projectState = 'active'): Promise<{ projectId: number; ids: number[] }> {
  const p = await insertProject(t.db, { state: projectState });
  const ids: number[] = [];
  for (let i = 0; i < n; i++) ids.push(await insertMailbox(t.db, p, `m${i}@example.test`, patch));
  return { projectId: p.projectId, ids };
}

async function lockedBy(id: number): Promise<string | null> {
  return (await t.db('mailboxes').where({ id }).first()).locked_by;
}

function deadPid(): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', () => resolve(child.pid!));
  });
}

test('workerId is host:pid:random and unique per call', () => {
  const a = workerId();
  const [host, pid, rnd] = a.split(':');
  assert.deepEqual([host, pid], [os.hostname(), String(process.pid)]);
  assert.match(rnd!, /^[0-9a-f]{6}$/);
  assert.notEqual(workerId(), a);
});

test('two workers claiming at the same time never get the same row (one connection)', async () => {
  const { projectId, ids } = await scenario(30);
  const now = Date.now();
  const [a, b] = await Promise.all([claimDue(t.db, 'w-a', 30, now, projectId), claimDue(t.db, 'w-b', 30, now, projectId)]);
  assert.equal(a.filter((id) => b.includes(id)).length, 0, `shared: ${a.filter((id) => b.includes(id))}`);
  assert.deepEqual([...a, ...b].sort((x, y) => x - y), ids);
  for (const id of a) assert.equal(await lockedBy(id), 'w-a');
  for (const id of b) assert.equal(await lockedBy(id), 'w-b');
});

test('workers in separate connections (separate processes\' view of the file) never get the same row', async () => {
  const { projectId, ids } = await scenario(24);
  const dbs = Array.from({ length: 4 }, () => t.connectAgain());
  extra.push(...dbs);
  const now = Date.now();
  const claims = await Promise.all(dbs.map((db, i) => claimDue(db, `w-${i}`, 6, now, projectId)));
  const all = claims.flat();
  assert.equal(new Set(all).size, all.length, `a row was claimed twice: ${JSON.stringify(claims)}`);
  assert.ok(claims.every((c) => c.length <= 6));
  // Whatever one round left, a second round hands out without overlap either.
  const rest = await Promise.all(dbs.map((db, i) => claimDue(db, `w2-${i}`, 6, now, projectId)));
  const total = [...all, ...rest.flat()];
  assert.equal(new Set(total).size, total.length);
  assert.deepEqual([...total].sort((x, y) => x - y), ids);
  for (const [i, c] of claims.entries()) for (const id of c) assert.equal(await lockedBy(id), `w-${i}`);
});

test('a claimed row is not claimable again while its lease runs; released, it is', async () => {
  const { projectId, ids } = await scenario(1);
  const now = Date.now();
  assert.deepEqual(await claimDue(t.db, 'w-a', 5, now, projectId), ids);
  assert.deepEqual(await claimDue(t.db, 'w-b', 5, now, projectId), []);
  const row = await t.db('mailboxes').where({ id: ids[0] }).first();
  assert.equal(Number(row.locked_until), now + LEASE_MS);
  await releaseLease(t.db, ids[0]!, 'w-b');
  assert.equal(await lockedBy(ids[0]!), 'w-a', 'only the holder releases');
  await releaseLease(t.db, ids[0]!, 'w-a');
  assert.deepEqual(await claimDue(t.db, 'w-b', 5, now, projectId), ids);
});

test('renewLease extends only the holder\'s lease', async () => {
  const { projectId, ids } = await scenario(1);
  await claimDue(t.db, 'w-a', 1, 1_000, projectId);
  await renewLease(t.db, ids[0]!, 'w-b');
  assert.equal(Number((await t.db('mailboxes').where({ id: ids[0] }).first()).locked_until), 1_000 + LEASE_MS);
  const before = Date.now();
  await renewLease(t.db, ids[0]!, 'w-a');
  assert.ok(Number((await t.db('mailboxes').where({ id: ids[0] }).first()).locked_until) >= before + LEASE_MS);
});

test('an expired lease is claimable, whoever held it; an unexpired one of another host is not', async () => {
  const now = Date.now();
  const expired = await scenario(1, { locked_by: 'elsewhere:4242:abcdef', locked_until: now - 1 });
  assert.deepEqual(await claimDue(t.db, 'w-a', 1, now, expired.projectId), expired.ids);
  assert.equal(await lockedBy(expired.ids[0]!), 'w-a');
  const live = await scenario(1, { locked_by: 'elsewhere:4242:abcdef', locked_until: now + 60_000 });
  assert.deepEqual(await claimDue(t.db, 'w-a', 1, now, live.projectId), []);
  assert.equal(await lockedBy(live.ids[0]!), 'elsewhere:4242:abcdef');
});

test('a lease held by a dead process of this host is claimable at once; a live one is not', async () => {
  const now = Date.now();
  const pid = await deadPid();
  const dead = await scenario(1, { locked_by: `${os.hostname()}:${pid}:x`, locked_until: now + LEASE_MS });
  assert.deepEqual(await claimDue(t.db, 'w-a', 1, now, dead.projectId), dead.ids);
  assert.equal(await lockedBy(dead.ids[0]!), 'w-a');

  const alive = await scenario(1, { locked_by: `${os.hostname()}:${process.pid}:x`, locked_until: now + LEASE_MS });
  assert.deepEqual(await claimDue(t.db, 'w-a', 1, now, alive.projectId), []);
  // The same dead pid on another host tells nothing: that lease stands.
  const remote = await scenario(1, { locked_by: `not-${os.hostname()}:${pid}:x`, locked_until: now + LEASE_MS });
  assert.deepEqual(await claimDue(t.db, 'w-a', 1, now, remote.projectId), []);
});

test('only runnable, due mailboxes of active projects are claimed, earliest first, up to the limit', async () => {
  const now = Date.now();
  const p = await insertProject(t.db);
  const due1 = await insertMailbox(t.db, p, 'due1@example.test', { next_run_at: now - 10 });
  const due2 = await insertMailbox(t.db, p, 'due2@example.test', { state: 'retrying', next_run_at: now - 20 });
  const due3 = await insertMailbox(t.db, p, 'due3@example.test', { state: 'waiting', next_run_at: now });
  await insertMailbox(t.db, p, 'later@example.test', { next_run_at: now + 1 });
  for (const state of ['paused', 'stopped', 'failed', 'done', 'needs_admin']) await insertMailbox(t.db, p, `${state}@example.test`, { state });
  assert.deepEqual(await claimDue(t.db, 'w-a', 2, now, p.projectId), [due2, due1]);
  assert.deepEqual(await claimDue(t.db, 'w-a', 10, now, p.projectId), [due3]);

  const paused = await scenario(2, {}, 'paused');
  assert.deepEqual(await claimDue(t.db, 'w-a', 10, now, paused.projectId), []);
});

test('free due rows are claimed even when more than limit×4 earlier rows are leased by live workers', async () => {
  const now = Date.now();
  const p = await insertProject(t.db);
  for (let i = 0; i < 8; i++) await insertMailbox(t.db, p, `busy${i}@example.test`, { next_run_at: 1, locked_by: `other-host:${i}:x`, locked_until: now + LEASE_MS });
  const free = await insertMailbox(t.db, p, 'free@example.test', { next_run_at: 2 });
  assert.deepEqual(await claimDue(t.db, 'w-a', 1, now, p.projectId), [free]);
});

test('free rows come before this host\'s live leases: a claim reaches a free row behind 100 rows other processes of this host hold', async () => {
  const now = Date.now();
  const p = await insertProject(t.db);
  for (let i = 0; i < 100; i++) await insertMailbox(t.db, p, `held${i}@example.test`, { next_run_at: 1, locked_by: `${os.hostname()}:${process.pid}:other${i}`, locked_until: now + LEASE_MS });
  const free = await insertMailbox(t.db, p, 'free@example.test', { next_run_at: 2 });
  assert.deepEqual(await claimDue(t.db, `${os.hostname()}:${process.pid}:mine`, 1, now, p.projectId), [free]);
});

test('renewLeases extends every lease of the worker in one update, and no one else\'s', async () => {
  const now = Date.now();
  const mine = await scenario(3, { locked_by: 'w-beat', locked_until: now + 10 });
  const theirs = await scenario(1, { locked_by: 'w-other', locked_until: now + 10 });
  const sql: string[] = [];
  const onQuery = (q: { sql: string }) => sql.push(q.sql);
  t.db.on('query', onQuery);
  try {
    await renewLeases(t.db, 'w-beat', now);
  } finally {
    t.db.off('query', onQuery);
  }
  assert.equal(sql.length, 1);
  for (const id of mine.ids) assert.equal(Number((await t.db('mailboxes').where({ id }).first()).locked_until), now + LEASE_MS);
  assert.equal(Number((await t.db('mailboxes').where({ id: theirs.ids[0] }).first()).locked_until), now + 10);
});

test('a lease renewed by its holder between another worker\'s read and its conditional update is not stolen', async () => {
  const now = Date.now();
  const { projectId, ids } = await scenario(1, { locked_by: 'slow-host:1:abc', locked_until: now - 5 });
  // The holder's renewal lands exactly after claimDue has read the row: the first query's result is held back until it is done.
  let calls = 0;
  const racing = ((table: string) => {
    const builder = t.db(table);
    if (++calls === 1) {
      const then = builder.then.bind(builder);
      (builder as unknown as { then: unknown }).then = (ok: (v: unknown) => unknown, ko: (e: unknown) => unknown) =>
        then(async (rows: unknown) => { await renewLease(t.db, ids[0]!, 'slow-host:1:abc'); return rows; }).then(ok, ko);
    }
    return builder;
  }) as unknown as Db;
  Object.assign(racing, { client: t.db.client });
  const claimed = await claimDue(racing, 'w-thief', 1, now, projectId);
  assert.ok(Number((await t.db('mailboxes').where({ id: ids[0] }).first()).locked_until) > now, 'precondition: the holder renewed');
  assert.deepEqual(claimed, []);
  assert.equal(await lockedBy(ids[0]!), 'slow-host:1:abc');
});

test('on PostgreSQL a claim is one FOR UPDATE SKIP LOCKED statement; on SQLite a conditional update per row', async () => {
  const { projectId } = await scenario(3);
  const sql: string[] = [];
  const onQuery = (q: { sql: string }) => sql.push(q.sql);
  t.db.on('query', onQuery);
  try {
    assert.equal((await claimDue(t.db, 'w-sql', 3, Date.now(), projectId)).length, 3);
  } finally {
    t.db.off('query', onQuery);
  }
  const skipLocked = sql.filter((q) => /for update of "mailboxes" skip locked/i.test(q));
  if (testDatabase === 'postgres') assert.equal(skipLocked.length, 1, sql.join('\n'));
  else assert.equal(skipLocked.length, 0, sql.join('\n'));
});

test('CUTOVER_WORKER_ID names the host part of worker ids (two processes on one machine act as two hosts)', () => {
  const saved = process.env.CUTOVER_WORKER_ID;
  process.env.CUTOVER_WORKER_ID = 'host-b';
  try {
    assert.match(workerId(), new RegExp(`^host-b:${process.pid}:[0-9a-f]{6}$`));
  } finally {
    if (saved === undefined) delete process.env.CUTOVER_WORKER_ID; else process.env.CUTOVER_WORKER_ID = saved;
  }
});
