import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { lockDomain, saveDomainStep } from '../../server/db/repos/domains.ts';
import { idleVerdict, leftBehind } from '../../server/workflow/idle.ts';
import { insertMailbox, insertProject, tempDb, type TempDb } from '../db/fixtures.ts';

let t: TempDb;
before(async () => { t = await tempDb(); });
after(async () => { await t?.close(); });

test('--until-idle waits for a retry due within the run, not for one due later, nor for a DNS wait', async () => {
  const now = Date.now();
  const p = await insertProject(t.db);
  await insertMailbox(t.db, p, 'dns@example.test', { state: 'waiting', step: 'dns-cutover', next_run_at: now + 1_000 });
  assert.deepEqual(await idleVerdict(t.db, now, now + 60_000, p.projectId), { done: true, nextDueAt: 0 }, 'a DNS wait is left behind');
  await insertMailbox(t.db, p, 'later@example.test', { state: 'retrying', next_run_at: now + 120_000 });
  assert.equal((await idleVerdict(t.db, now, now + 60_000, p.projectId)).done, true, 'a retry due after the run is left behind');
  await insertMailbox(t.db, p, 'soon@example.test', { state: 'retrying', next_run_at: now + 5_000 });
  assert.deepEqual(await idleVerdict(t.db, now, now + 60_000, p.projectId), { done: false, nextDueAt: now + 5_000 });
  assert.equal((await idleVerdict(t.db, now, now, p.projectId)).done, true, 'a zero wait returns at once');
});

test('--until-idle waits for a mailbox whose domain step another live worker holds', async () => {
  const now = Date.now();
  const p = await insertProject(t.db);
  await insertMailbox(t.db, p, 'held@example.test', { state: 'waiting', step: 'attach-domain', next_run_at: now + 2_000 });
  assert.equal((await idleVerdict(t.db, now, now, p.projectId)).done, true);
  assert.equal(await lockDomain(t.db, p.domainId, 'other-host:1:abc', now, 10_000), true);
  assert.equal(await lockDomain(t.db, p.domainId, 'mine:2:def', now, 10_000), false, 'the domain row is one holder\'s lock');
  assert.deepEqual(await idleVerdict(t.db, now, now, p.projectId), { done: false, nextDueAt: now + 2_000 });
  assert.equal((await idleVerdict(t.db, now + 20_000, now + 20_000, p.projectId)).done, true, 'an expired holder is not waited for');
  assert.equal(await lockDomain(t.db, p.domainId, 'mine:2:def', now + 20_000, 10_000), true, 'an expired lock is taken over');
});

test('--until-idle waits for a mailbox whose domain step another worker finished after this mailbox looked', async () => {
  const now = Date.now();
  const p = await insertProject(t.db);
  await insertMailbox(t.db, p, 'late@example.test', { state: 'waiting', step: 'attach-domain', next_run_at: now + 2_000 });
  assert.equal((await idleVerdict(t.db, now, now + 60_000, p.projectId)).done, true, 'nothing says the wait ends soon');
  await saveDomainStep(t.db, p.domainId, 'attach-domain', { status: 'done', detail: 'done by the other host' });
  assert.deepEqual(await idleVerdict(t.db, now, now + 60_000, p.projectId), { done: false, nextDueAt: now + 2_000 });
});

test('--until-idle waits for a mailbox another worker leases (live, or dead until its lease runs out), within the run', async () => {
  const now = Date.now();
  const p = await insertProject(t.db);
  await insertMailbox(t.db, p, 'leased@example.test', { state: 'running', step: 'copy-mail', locked_by: 'host-a:1:abc', locked_until: now + 3_000 });
  assert.deepEqual(await idleVerdict(t.db, now, now + 60_000, p.projectId), { done: false, nextDueAt: now + 3_000 });
  assert.equal((await idleVerdict(t.db, now, now, p.projectId)).done, true, 'a zero wait returns at once');
  assert.equal((await idleVerdict(t.db, now + 4_000, now + 60_000, p.projectId)).done, true, 'an expired lease is claimable, not waited for');
});

test('what a run leaves behind is counted by state with the earliest next run', async () => {
  const now = Date.now();
  const p = await insertProject(t.db);
  await insertMailbox(t.db, p, 'a@example.test', { state: 'done' });
  await insertMailbox(t.db, p, 'b@example.test', { state: 'waiting', next_run_at: now + 9_000 });
  await insertMailbox(t.db, p, 'c@example.test', { state: 'waiting', next_run_at: now + 3_000 });
  await insertMailbox(t.db, p, 'd@example.test', { state: 'failed' });
  assert.deepEqual(await leftBehind(t.db, p.projectId), [
    { state: 'failed', count: 1, nextRunAt: null },
    { state: 'waiting', count: 2, nextRunAt: now + 3_000 },
  ]);
});
