import { CutoverError } from '../../server/errors.ts';

/** A platform task as cutover reads it. `gone` = no longer listed (the legacy API's only way to say "finished"). */
export interface TaskView {
  id: number;
  function: string;
  status: 'todo' | 'doing' | 'done' | 'error' | 'cancelled' | 'problem' | 'init' | 'gone';
  /** The task's own words where the API has them (zone tasks' `comment`). */
  comment?: string | null;
}

export interface PollOptions {
  /** Total time one call may wait; then the step hands back to the scheduler. */
  timeoutMs: number;
  /** First interval; it grows by half at each poll up to eight times this value. */
  intervalMs: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const FINISHED_BADLY = new Set(['error', 'cancelled', 'problem']);

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Polls `read` with backoff until the task is done (or gone), never longer than `timeoutMs`.
 * A task that ended in error or was cancelled throws PLATFORM_TASK_FAILED with its words; a task
 * still running at the deadline throws the retryable PLATFORM_TASK_PENDING, so the workflow
 * backs off and the (idempotent) step finds the same task again on its next run.
 */
export async function waitForTask(read: () => Promise<TaskView>, what: string, opts: PollOptions): Promise<TaskView> {
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? defaultSleep;
  const deadline = now() + opts.timeoutMs;
  const started = now();
  let interval = opts.intervalMs;
  for (;;) {
    const task = await read();
    if (task.status === 'done' || task.status === 'gone') return task;
    if (FINISHED_BADLY.has(task.status)) {
      const detail = task.comment ? `: ${task.comment}` : '; OVHcloud gives no reason in the API for this task, the control panel\'s task list may';
      throw new CutoverError('PLATFORM_TASK_FAILED', { platform: 'ovhcloud', task: `#${task.id}`, what: `${task.function} for ${what}`, status: task.status, detail });
    }
    if (now() + interval > deadline) {
      throw new CutoverError('PLATFORM_TASK_PENDING', { platform: 'ovhcloud', task: `#${task.id}`, what: `${task.function} for ${what}`, status: task.status, seconds: Math.round((now() - started) / 1000) }, { retryable: true });
    }
    await sleep(interval);
    interval = Math.min(Math.round(interval * 1.5), opts.intervalMs * 8);
  }
}

/** Polls a condition the same way (an object's state reaching `ok`); resolves false at the deadline instead of throwing. */
export async function pollUntil(check: () => Promise<boolean>, opts: PollOptions): Promise<boolean> {
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? defaultSleep;
  const deadline = now() + opts.timeoutMs;
  let interval = opts.intervalMs;
  for (;;) {
    if (await check()) return true;
    if (now() + interval > deadline) return false;
    await sleep(interval);
    interval = Math.min(Math.round(interval * 1.5), opts.intervalMs * 8);
  }
}
