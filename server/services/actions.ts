import type { AppContext } from '../context.ts';
import { projectDomains, saveDomainStep } from '../db/repos/domains.ts';
import { recordEvent } from '../db/repos/events.ts';
import { findMailbox, updateMailbox, type MailboxRow, type MailboxState } from '../db/repos/mailboxes.ts';
import { projectById } from '../db/repos/projects.ts';
import { CutoverError } from '../errors.ts';
import { deltaSync } from '../workflow/steps/delta-sync.ts';
import { nextStep, stepById, steps } from '../workflow/steps/index.ts';

export type MailboxAction = 'start' | 'pause' | 'resume' | 'stop' | 'retry' | 'confirm' | 'sync';

interface Transition {
  from: MailboxState[];
  /** A further condition on the row, beyond its state (e.g. the step it is at). */
  when?(row: MailboxRow): boolean;
  /** Actions that hand the mailbox to the worker: refused in a project that is no longer active. */
  queues: boolean;
  apply(row: MailboxRow): Partial<MailboxRow>;
}

/**
 * A mailbox of a manual-start project waits, paused, before its first step until an admin starts
 * it. "Not started" is read from the row itself (first step, never attempted, nothing inspected),
 * so a mailbox paused later in its workflow is never mistaken for one.
 */
export function notStarted(row: Pick<MailboxRow, 'state' | 'step' | 'attempts' | 'preflight'>): boolean {
  return row.state === 'paused' && row.step === steps[0]!.id && Number(row.attempts) === 0 && row.preflight === null;
}

const transitions: Record<MailboxAction, Transition> = {
  start: { from: ['paused'], when: notStarted, queues: true, apply: () => ({ state: 'queued', next_run_at: 0 }) },
  pause: { from: ['queued', 'waiting', 'retrying', 'needs_admin'], queues: false, apply: () => ({ state: 'paused' }) },
  // Resuming re-runs the current step, which checks its own effect first, so nothing repeats.
  resume: { from: ['paused', 'stopped'], queues: true, apply: () => ({ state: 'queued', next_run_at: 0 }) },
  stop: { from: ['queued', 'waiting', 'retrying', 'needs_admin', 'paused', 'failed'], queues: false, apply: () => ({ state: 'stopped' }) },
  retry: { from: ['failed', 'retrying'], queues: true, apply: () => ({ state: 'queued', attempts: 0, next_run_at: 0, error_code: null, error_message: null }) },
  confirm: {
    from: ['needs_admin', 'waiting'],
    queues: true,
    apply: (row) => {
      const next = nextStep(row.step);
      return { step: next?.id ?? row.step, state: next ? 'queued' : 'done', next_run_at: 0, manual_instructions: null };
    },
  },
  // Between two delta passes the mailbox waits for its next run: making it due now runs a pass at the worker's next tick.
  sync: { from: ['waiting', 'queued', 'retrying'], when: (row) => row.step === deltaSync.id, queues: true, apply: () => ({ next_run_at: 0 }) },
};

export async function mailboxAction(app: AppContext, ref: string, action: MailboxAction, actor: string): Promise<MailboxRow> {
  const row = await findMailbox(app.db, ref);
  const transition = transitions[action];
  if (!transition.from.includes(row.state)) throw new CutoverError('ACTION_NOT_ALLOWED', { action, ref: row.address, state: row.state });
  if (transition.when && !transition.when(row)) throw new CutoverError('ACTION_NOT_ALLOWED', { action, ref: row.address, state: `${row.state} at ${row.step}` });
  if (transition.queues) {
    const project = await projectById(app.db, row.project_id);
    if (project.state !== 'active') throw new CutoverError('ACTION_NOT_ALLOWED', { action, ref: row.address, state: `in project ${project.name}, which is ${project.state}` });
  }
  const step = stepById(row.step);
  if (action === 'confirm' && step.level === 'domain') {
    await confirmDomainStep(app, row.project_id, row.domain_id, step.id, actor);
  } else {
    await updateMailbox(app.db, row.id, transition.apply(row));
    await recordEvent(app.db, { projectId: row.project_id, mailboxId: row.id, domainId: row.domain_id, step: row.step, outcome: action, message: `${action} by ${actor}`, actor });
  }
  return findMailbox(app.db, String(row.id));
}

/**
 * Applies one action to every mailbox of a project (optionally only those in one state), one
 * mailbox at a time through {@link mailboxAction}, so each change is checked and recorded as an
 * event with its actor. Mailboxes the action does not apply to are counted and left as they are.
 */
export async function projectAction(app: AppContext, projectId: number, action: MailboxAction, state: MailboxState | undefined, actor: string): Promise<{ done: number; skipped: number }> {
  await projectById(app.db, projectId);
  const query = app.db('mailboxes').where({ project_id: projectId }).select('id').orderBy('id');
  if (state) query.andWhere({ state });
  let done = 0;
  let skipped = 0;
  for (const { id } of (await query) as Array<{ id: number }>) {
    try {
      await mailboxAction(app, String(id), action, actor);
      done++;
    } catch (err) {
      if (!(err instanceof CutoverError) || err.code !== 'ACTION_NOT_ALLOWED') throw err;
      skipped++;
    }
  }
  return { done, skipped };
}

/** An admin's word that a domain step is done (DNS changed by hand): every mailbox waiting on it moves on. */
export async function confirmDomainStep(app: AppContext, projectId: number, domainId: number, stepId: string, actor: string): Promise<void> {
  await saveDomainStep(app.db, domainId, stepId, { status: 'done', confirmed_by: actor, completed_at: new Date().toISOString() });
  await recordEvent(app.db, { projectId, domainId, step: stepId, outcome: 'confirmed', message: `${stepId} confirmed by ${actor}`, actor });
  await app.db('mailboxes').where({ domain_id: domainId, step: stepId }).whereIn('state', ['waiting', 'needs_admin', 'retrying']).update({ state: 'queued', next_run_at: 0 });
}

export async function confirmDomainByName(app: AppContext, projectRef: number, domain: string, stepId: string, actor: string): Promise<void> {
  const project = await projectById(app.db, projectRef);
  const row = (await projectDomains(app.db, project.id)).find((d) => d.name === domain.toLowerCase());
  if (!row) throw new CutoverError('INPUT_INVALID', { detail: `project ${project.name} has no domain ${domain}` });
  if (stepById(stepId).level !== 'domain') throw new CutoverError('INPUT_INVALID', { detail: `${stepId} is not a domain step` });
  await confirmDomainStep(app, project.id, row.id, stepId, actor);
}
