import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pollUntil, waitForTask, type TaskView } from '../../../plugins/ovhcloud/tasks.ts';
import { CutoverError } from '../../../server/errors.ts';

/** A clock that only moves when the poller sleeps: no real waiting, exact intervals. */
function clock() {
  let t = 0;
  const slept: number[] = [];
  return { now: () => t, sleep: async (ms: number) => { slept.push(ms); t += ms; }, slept };
}

function sequence(...statuses: TaskView['status'][]): () => Promise<TaskView> {
  let i = 0;
  return async () => ({ id: 42, function: 'setAccount', status: statuses[Math.min(i++, statuses.length - 1)]! });
}

test('waits through todo and doing until done, with growing intervals', async () => {
  const c = clock();
  const task = await waitForTask(sequence('todo', 'doing', 'doing', 'doing', 'done'), 'john@example.com', { timeoutMs: 60_000, intervalMs: 1000, ...c });
  assert.equal(task.status, 'done');
  assert.deepEqual(c.slept, [1000, 1500, 2250, 3375]);
});

test('intervals are capped at eight times the first', async () => {
  const c = clock();
  await waitForTask(sequence(...Array<TaskView['status']>(12).fill('doing'), 'done'), 'x', { timeoutMs: 3_600_000, intervalMs: 100, ...c });
  assert.equal(Math.max(...c.slept), 800);
});

test('error and cancelled stop at once with the task named; a zone task\'s comment is surfaced', async () => {
  for (const status of ['error', 'cancelled'] as const) {
    const c = clock();
    await assert.rejects(waitForTask(sequence('todo', status), 'john@example.com', { timeoutMs: 60_000, intervalMs: 1000, ...c }), (err: unknown) => {
      assert.ok(err instanceof CutoverError);
      assert.equal(err.code, 'PLATFORM_TASK_FAILED');
      assert.equal(err.retryable, false);
      assert.match(err.message, new RegExp(`task #42 \\(setAccount for john@example.com\\) ended "${status}"`));
      return true;
    });
  }
  await assert.rejects(waitForTask(async () => ({ id: 7, function: 'refresh', status: 'error', comment: 'zone syntax error line 12' }), 'zone', { timeoutMs: 1000, intervalMs: 10 }), /zone syntax error line 12/);
});

test('a task still running at the deadline is a retryable PLATFORM_TASK_PENDING, never an endless loop', async () => {
  const c = clock();
  let reads = 0;
  await assert.rejects(waitForTask(async () => { reads++; return { id: 9, function: 'addDomain', status: 'todo' }; }, 'example.com', { timeoutMs: 10_000, intervalMs: 1000, ...c }), (err: unknown) => {
    assert.ok(err instanceof CutoverError);
    assert.equal(err.code, 'PLATFORM_TASK_PENDING');
    assert.equal(err.retryable, true);
    return true;
  });
  assert.ok(c.now() <= 10_000, `waited ${c.now()} ms`);
  assert.ok(reads >= 4 && reads <= 8, `${reads} reads`);
});

test('a task no longer listed counts as finished (the legacy API\'s only signal)', async () => {
  const c = clock();
  assert.equal((await waitForTask(sequence('doing', 'gone'), 'x', { timeoutMs: 10_000, intervalMs: 1000, ...c })).status, 'gone');
});

test('pollUntil resolves true when the condition holds, false at the deadline', async () => {
  const c = clock();
  let n = 0;
  assert.equal(await pollUntil(async () => ++n >= 3, { timeoutMs: 10_000, intervalMs: 100, ...c }), true);
  const d = clock();
  assert.equal(await pollUntil(async () => false, { timeoutMs: 1000, intervalMs: 100, ...d }), false);
  assert.ok(d.now() <= 1000);
});
