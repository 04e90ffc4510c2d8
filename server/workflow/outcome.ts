import type { Db } from '../db/knex.ts';
import { recordEvent } from '../db/repos/events.ts';
import { mailboxById, updateMailbox, type MailboxPatch } from '../db/repos/mailboxes.ts';
import type { CutoverError } from '../errors.ts';
import { backoffDelay } from './backoff.ts';
import { nextStep } from './steps/index.ts';
import type { Step, StepOutcome } from './types.ts';

export const MAX_ATTEMPTS = 10;

const cleared = { error_code: null, error_message: null, manual_instructions: null };

/** Writes what a step run produced onto the mailbox row, plus one event row: the only place state moves forward. */
export async function persistOutcome(db: Db, mailboxId: number, step: Step, outcome: StepOutcome | CutoverError, now: number): Promise<void> {
  const row = await mailboxById(db, mailboxId);
  // An admin who paused or stopped the mailbox while the step ran keeps it so.
  const held = row.state === 'paused' || row.state === 'stopped' ? row.state : undefined;
  let patch: MailboxPatch;
  let outcomeName: string;
  let message: string;
  if (outcome instanceof Error) {
    const retry = outcome.retryable && row.attempts + 1 < MAX_ATTEMPTS;
    patch = {
      state: held ?? (retry ? 'retrying' : 'failed'), attempts: row.attempts + 1,
      next_run_at: retry ? now + backoffDelay(row.attempts + 1) : 0, error_code: outcome.code, error_message: outcome.message,
    };
    outcomeName = retry ? 'retry' : 'failed';
    message = retry ? `${outcome.message} (attempt ${row.attempts + 1}, next try ${new Date(Number(patch.next_run_at)).toISOString()})` : outcome.message;
  } else if (outcome.kind === 'done') {
    const next = nextStep(step.id);
    patch = { ...cleared, step: next?.id ?? step.id, state: held ?? (next ? 'queued' : 'done'), attempts: 0, next_run_at: 0 };
    outcomeName = next ? 'done' : 'completed';
    message = outcome.message;
  } else if (outcome.kind === 'wait') {
    patch = { ...cleared, state: held ?? 'waiting', attempts: 0, next_run_at: outcome.until, manual_instructions: outcome.message };
    outcomeName = 'wait';
    message = outcome.message;
  } else {
    patch = { ...cleared, state: held ?? 'needs_admin', attempts: 0, manual_instructions: outcome.instructions };
    outcomeName = 'manual';
    message = outcome.instructions;
  }
  await updateMailbox(db, mailboxId, patch);
  // Repeated identical waits (a DNS re-check every few minutes) would drown the timeline.
  if (outcomeName === 'wait' && row.state === 'waiting' && row.manual_instructions === message) return;
  await recordEvent(db, { projectId: row.project_id, mailboxId, domainId: row.domain_id, step: step.id, outcome: outcomeName, message, actor: 'worker' });
}
