import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { projectOptionsSchema } from '../../server/db/repos/projects.ts';
import { admitClaimed, closesAt, holdFor, localMinutes, nextOpening, wakeScheduleWaits, windowOpen } from '../../server/workflow/window.ts';
import { claimDue } from '../../server/workflow/lease.ts';
import { insertMailbox, insertProject, tempDb, type TempDb } from '../db/fixtures.ts';
import { openContext } from '../../server/context.ts';
import { updateSchedule } from '../../server/daily/schedule.ts';
import { runWorker } from '../../server/workflow/runner.ts';
import { tempDataDir } from '../support/cli.ts';

const at = (iso: string) => Date.parse(iso);
const NIGHT = { from: '20:00', to: '07:00', timeZone: 'Europe/Paris' };

let store: TempDb;
before(async () => { store = await tempDb(); });
after(async () => { await store?.close(); });

test('a 20:00–07:00 Europe/Paris window: open at night, closed by day, across midnight and daylight saving', () => {
  // 6 December: Paris is UTC+1.
  assert.equal(localMinutes('Europe/Paris', at('2026-12-06T19:30:00Z')), 20 * 60 + 30);
  assert.equal(windowOpen(NIGHT, at('2026-12-06T19:30:00Z')), true, '20:30 Paris');
  assert.equal(windowOpen(NIGHT, at('2026-12-06T23:30:00Z')), true, '00:30 Paris');
  assert.equal(windowOpen(NIGHT, at('2026-12-07T05:59:00Z')), true, '06:59 Paris');
  assert.equal(windowOpen(NIGHT, at('2026-12-07T06:00:00Z')), false, '07:00 Paris');
  assert.equal(windowOpen(NIGHT, at('2026-12-06T12:00:00Z')), false, '13:00 Paris');
  assert.equal(nextOpening(NIGHT, at('2026-12-06T12:00:00Z')), at('2026-12-06T19:00:00Z'));
  assert.equal(closesAt(NIGHT, at('2026-12-06T22:00:00Z')), at('2026-12-07T06:00:00Z'));
  assert.equal(closesAt(NIGHT, at('2026-12-06T12:00:00Z')), undefined);
  // 28 March 2026 → 29 March: Paris moves from UTC+1 to UTC+2 at 02:00.
  assert.equal(closesAt(NIGHT, at('2026-03-28T22:00:00Z')), at('2026-03-29T05:00:00Z'), '07:00 summer time');
  // A window inside one day.
  const office = { from: '09:00', to: '17:30', timeZone: 'UTC' };
  assert.equal(windowOpen(office, at('2026-12-06T17:29:00Z')), true);
  assert.equal(windowOpen(office, at('2026-12-06T17:30:00Z')), false);
  assert.equal(nextOpening(office, at('2026-12-06T18:00:00Z')), at('2026-12-07T09:00:00Z'));
});

test('the options refuse a bad window, zone, start time or cap', () => {
  for (const bad of [
    { copyWindow: { from: '25:00', to: '07:00' } }, { copyWindow: { from: '20:00', to: '20:00' } }, { copyWindow: { from: '20:00', to: '07:00', timeZone: 'Mars/Olympus' } },
    { startAt: 'tomorrow' }, { startAt: '2026-12-06T20:00:00' }, { maxBytesPerSecond: 10 }, { maxBytesPerSecond: 1e12 }, { retentionDays: -1 }, { letterLanguages: ['de'] },
  ]) assert.equal(projectOptionsSchema.safeParse(bad).success, false, JSON.stringify(bad));
  const good = projectOptionsSchema.parse({ startAt: '2026-12-06T20:00:00+01:00', copyWindow: NIGHT, maxBytesPerSecond: 500_000 });
  assert.equal(good.retentionDays, 60);
  assert.deepEqual(good.letterLanguages, ['en', 'fr']);
});

test('start time holds every step; the window holds copy steps only', () => {
  const now = at('2026-12-06T12:00:00Z');
  const start = holdFor({ startAt: '2026-12-06T20:00:00+01:00' }, 'preflight', now);
  assert.equal(start?.reason, 'start');
  assert.equal(start?.until, at('2026-12-06T19:00:00Z'));
  assert.equal(holdFor({ copyWindow: NIGHT }, 'preflight', now), null, 'preflight runs by day');
  const window = holdFor({ copyWindow: NIGHT }, 'copy-mail', now);
  assert.equal(window?.until, at('2026-12-06T19:00:00Z'));
  assert.match(window!.message, /waits for 20:00 \(Europe\/Paris\)/);
  assert.equal(holdFor({ copyWindow: NIGHT }, 'copy-mail', at('2026-12-06T21:00:00Z')), null);
});

test('the claim gives back a mailbox outside its window, waiting until the opening, and wakes it when the schedule changes', async () => {
  const p = await insertProject(store.db);
  const closedNow = { from: '00:00', to: '00:01', timeZone: 'UTC' };
  const now = at('2026-12-06T12:00:00Z');
  await store.db('projects').where({ id: p.projectId }).update({ options: JSON.stringify({ copyWindow: closedNow }) });
  const copying = await insertMailbox(store.db, p, 'a@example.test', { step: 'copy-mail', error_code: 'COPY_WINDOW_CLOSED', attempts: 3 });
  const preflight = await insertMailbox(store.db, p, 'b@example.test', { step: 'preflight' });
  const claimed = await claimDue(store.db, 'w:1:aa', 10, now, p.projectId);
  assert.deepEqual(claimed.sort(), [copying, preflight].sort());
  const admitted = await admitClaimed(store.db, 'w:1:aa', claimed, now);
  assert.deepEqual(admitted, [preflight], 'only the step outside the window runs');
  const held = await store.db('mailboxes').where({ id: copying }).first();
  assert.equal(held.state, 'waiting');
  assert.equal(Number(held.next_run_at), at('2026-12-07T00:00:00Z'));
  assert.equal(held.locked_by, null, 'lease given back');
  assert.equal(held.error_code, null, 'a window stop is not a failure');
  assert.equal(held.attempts, 2, 'and does not count as an attempt');
  assert.match(held.manual_instructions, /^schedule: waits for 00:00 \(UTC\)/);
  assert.equal(await store.db('events').where({ mailbox_id: copying, outcome: 'wait' }).count({ n: '*' }).first().then((r) => Number(r?.n)), 1);
  assert.deepEqual(await claimDue(store.db, 'w:1:aa', 10, now, p.projectId).then((ids) => ids.filter((id) => id === copying)), [], 'not due before the opening');
  // The admin removes the window while the project runs: the waiting mailbox is due at once.
  await store.db('projects').where({ id: p.projectId }).update({ options: '{}' });
  assert.equal(await wakeScheduleWaits(store.db, p.projectId), 1);
  const again = await claimDue(store.db, 'w:1:bb', 10, now, p.projectId);
  assert.ok(again.includes(copying));
  assert.deepEqual(await admitClaimed(store.db, 'w:1:bb', again, now), again);
});

test('a worker leaves a project alone before its start time, and runs it as soon as the start time is moved', async () => {
  const app = await openContext({ CUTOVER_DATA_DIR: tempDataDir(), CUTOVER_LOG_LEVEL: 'silent' });
  try {
    const p = await insertProject(app.db);
    const startAt = new Date(Date.now() + 3600_000).toISOString();
    await app.db('projects').where({ id: p.projectId }).update({ options: JSON.stringify({ startAt }) });
    const m = await insertMailbox(app.db, p, 'later@example.test', { step: 'preflight' });
    await runWorker(app, { untilIdle: true, maxWaitMs: 500, projectId: p.projectId });
    const held = await app.db('mailboxes').where({ id: m }).first();
    assert.deepEqual([held.state, Number(held.next_run_at), held.attempts, held.error_code], ['waiting', Date.parse(startAt), 0, null]);
    assert.match(held.manual_instructions, /waits for the project's start time/);
    assert.equal(await app.db('events').where({ mailbox_id: m, step: 'preflight' }).whereNot({ outcome: 'wait' }).first(), undefined, 'the step never ran');
    const { woken } = await updateSchedule(app, p.projectId, { startAt: null }, 'test');
    assert.equal(woken, 1);
    await runWorker(app, { untilIdle: true, maxWaitMs: 0, projectId: p.projectId });
    const ran = await app.db('events').where({ mailbox_id: m, step: 'preflight' }).whereNot({ outcome: 'wait' }).first();
    assert.ok(ran, 'preflight ran once the start time was lifted');
  } finally {
    await app.close();
  }
});
