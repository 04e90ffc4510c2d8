import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { mailboxById } from '../../server/db/repos/mailboxes.ts';
import { mailboxEvents } from '../../server/db/repos/events.ts';
import { CutoverError } from '../../server/errors.ts';
import { persistOutcome, queuesNextStep } from '../../server/workflow/outcome.ts';
import { stepById } from '../../server/workflow/steps/index.ts';
import { done, waitUntil } from '../../server/workflow/types.ts';
import { insertMailbox, insertProject, tempDb, type TempDb } from '../db/fixtures.ts';

let t: TempDb;
before(async () => { t = await tempDb(); });
after(async () => { await t?.close(); });

const copyMail = stepById('copy-mail');
const lease = { locked_by: 'w-1', locked_until: Date.now() + 60_000 };

async function leased(address: string, patch: Record<string, unknown> = {}): Promise<number> {
  return insertMailbox(t.db, await insertProject(t.db), address, { ...lease, ...patch });
}

test('a done step queues the next one; with a worker named, the same update gives its lease back, and the row as left is returned', async () => {
  const id = await leased('a@example.test');
  const after = await persistOutcome(t.db, await mailboxById(t.db, id), copyMail, done('copied'), Date.now(), 'w-1');
  const row = await mailboxById(t.db, id);
  assert.deepEqual([row.state, row.step, row.locked_by, row.locked_until], ['queued', 'copy-groupware', null, null]);
  assert.deepEqual([after?.state, after?.step, after?.locked_by], ['queued', 'copy-groupware', null]);
  assert.deepEqual((await mailboxEvents(t.db, id)).map((e) => [e.step, e.outcome, e.message]), [['copy-mail', 'done', 'copied']]);
});

test('without a worker named the lease stays: the holder goes on with the next step', async () => {
  const id = await leased('b@example.test');
  const after = await persistOutcome(t.db, await mailboxById(t.db, id), copyMail, done('copied'), Date.now());
  assert.equal((await mailboxById(t.db, id)).locked_by, 'w-1');
  assert.equal(after?.locked_by, 'w-1');
  assert.equal(queuesNextStep(copyMail, done('copied')), true);
  assert.equal(queuesNextStep(stepById('finalize'), done('finished')), false);
  assert.equal(queuesNextStep(copyMail, waitUntil(Date.now() + 1000, 'later')), false);
  assert.equal(queuesNextStep(copyMail, new CutoverError('IMAP_STALLED', { host: 'h', seconds: 1, during: '' })), false);
});

test('an admin who paused the mailbox while the step ran keeps it paused; the step still moves on and the event is written', async () => {
  const id = await leased('c@example.test');
  const seen = await mailboxById(t.db, id);
  await t.db('mailboxes').where({ id }).update({ state: 'paused' });
  const after = await persistOutcome(t.db, seen, copyMail, done('copied'), Date.now(), 'w-1');
  const row = await mailboxById(t.db, id);
  assert.deepEqual([row.state, row.step, row.locked_by], ['paused', 'copy-groupware', null]);
  assert.equal(after?.state, 'paused');
  assert.equal((await mailboxEvents(t.db, id)).length, 1);
});

test('a lease another worker took over meanwhile is not given back by the old holder', async () => {
  const id = await leased('d@example.test');
  const seen = await mailboxById(t.db, id);
  const until = Date.now() + 90_000;
  await t.db('mailboxes').where({ id }).update({ locked_by: 'w-2', locked_until: until });
  await persistOutcome(t.db, seen, copyMail, done('copied'), Date.now(), 'w-1');
  const row = await mailboxById(t.db, id);
  assert.deepEqual([row.locked_by, Number(row.locked_until)], ['w-2', until]);
});

test('a retryable failure counts the attempt from the row the step saw; a repeated identical wait writes no second event', async () => {
  const id = await leased('e@example.test', { attempts: 2 });
  await persistOutcome(t.db, await mailboxById(t.db, id), copyMail, new CutoverError('IMAP_STALLED', { host: 'h', seconds: 1, during: '' }, { retryable: true }), 1_000, 'w-1');
  const failed = await mailboxById(t.db, id);
  assert.deepEqual([failed.state, failed.attempts, failed.error_code], ['retrying', 3, 'IMAP_STALLED']);
  assert.ok(Number(failed.next_run_at) > 1_000);

  const wait = waitUntil(Date.now() + 60_000, 'waiting for DNS');
  await persistOutcome(t.db, await mailboxById(t.db, id), copyMail, wait, Date.now(), 'w-1');
  await persistOutcome(t.db, await mailboxById(t.db, id), copyMail, wait, Date.now(), 'w-1');
  assert.deepEqual((await mailboxEvents(t.db, id)).map((e) => e.outcome), ['retry', 'wait']);
  assert.equal((await mailboxById(t.db, id)).state, 'waiting');
});
