import type { Db } from '../db/knex.ts';
import { recordEvent } from '../db/repos/events.ts';
import type { MailboxPatch, MailboxRow, MailboxState } from '../db/repos/mailboxes.ts';
import type { CutoverError } from '../errors.ts';
import { backoffDelay } from './backoff.ts';
import { nextStep } from './steps/index.ts';
import type { Step, StepOutcome } from './types.ts';

export const MAX_ATTEMPTS = 10;

const cleared = { error_code: null, error_message: null, manual_instructions: null };

/** Whether persisting `outcome` queues the mailbox's next step at once (a worker holding it may go on). */
export function queuesNextStep(step: Step, outcome: StepOutcome | CutoverError): boolean {
  return !(outcome instanceof Error) && outcome.kind === 'done' && nextStep(step.id) !== undefined;
}

/**
 * Writes what a step run produced onto the mailbox row, plus one event row: the only place state
 * moves forward. `row` is the mailbox as the step saw it (with its own saves); an admin who paused
 * or stopped the mailbox meanwhile keeps it so, which the update itself decides. `releaseFor`: the
 * worker whose lease the same update gives back (none: the worker goes on with the next step).
 * Returns the row as the update left it.
 */
export async function persistOutcome(db: Db, row: MailboxRow, step: Step, outcome: StepOutcome | CutoverError, now: number, releaseFor?: string): Promise<MailboxRow | undefined> {
  let patch: MailboxPatch;
  let state: MailboxState;
  let outcomeName: string;
  let message: string;
  if (outcome instanceof Error) {
    const retry = outcome.retryable && row.attempts + 1 < MAX_ATTEMPTS;
    state = retry ? 'retrying' : 'failed';
    patch = { attempts: row.attempts + 1, next_run_at: retry ? now + backoffDelay(row.attempts + 1) : 0, error_code: outcome.code, error_message: outcome.message };
    outcomeName = retry ? 'retry' : 'failed';
    message = retry ? `${outcome.message} (attempt ${row.attempts + 1}, next try ${new Date(Number(patch.next_run_at)).toISOString()})` : outcome.message;
  } else if (outcome.kind === 'done') {
    const next = nextStep(step.id);
    state = next ? 'queued' : 'done';
    patch = { ...cleared, step: next?.id ?? step.id, attempts: 0, next_run_at: 0 };
    outcomeName = next ? 'done' : 'completed';
    message = outcome.message;
  } else if (outcome.kind === 'wait') {
    state = 'waiting';
    patch = { ...cleared, attempts: 0, next_run_at: outcome.until, manual_instructions: outcome.message };
    outcomeName = 'wait';
    message = outcome.message;
  } else {
    state = 'needs_admin';
    patch = { ...cleared, attempts: 0, manual_instructions: outcome.instructions };
    outcomeName = 'manual';
    message = outcome.instructions;
  }
  // Repeated identical waits (a DNS re-check every few minutes) would drown the timeline.
  const repeatedWait = outcomeName === 'wait' && row.state === 'waiting' && row.manual_instructions === message;
  // In SQL, every right-hand side sees the row as it was: the lease columns test the old holder.
  const release = releaseFor === undefined ? {} : {
    locked_by: db.raw('CASE WHEN locked_by = ? THEN NULL ELSE locked_by END', [releaseFor]),
    locked_until: db.raw('CASE WHEN locked_by = ? THEN NULL ELSE locked_until END', [releaseFor]),
  };
  const [after] = await db('mailboxes').where({ id: row.id }).update({
    ...patch, ...release, updated_at: new Date().toISOString(),
    state: db.raw("CASE WHEN state IN ('paused', 'stopped') THEN state ELSE ? END", [state]),
  }, '*') as MailboxRow[];
  if (!repeatedWait) await recordEvent(db, { projectId: row.project_id, mailboxId: row.id, domainId: row.domain_id, step: step.id, outcome: outcomeName, message, actor: 'worker' });
  return after;
}
