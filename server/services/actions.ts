import type { AppContext } from '../context.ts';
import { projectDomains, saveDomainStep } from '../db/repos/domains.ts';
import { recordEvent } from '../db/repos/events.ts';
import { findMailbox, updateMailbox, type MailboxRow, type MailboxState } from '../db/repos/mailboxes.ts';
import { projectById } from '../db/repos/projects.ts';
import { CutoverError } from '../errors.ts';
import { nextStep, stepById } from '../workflow/steps/index.ts';

export type MailboxAction = 'pause' | 'resume' | 'stop' | 'retry' | 'confirm';

interface Transition { from: MailboxState[]; apply(row: MailboxRow): Partial<MailboxRow> }

const transitions: Record<MailboxAction, Transition> = {
  pause: { from: ['queued', 'waiting', 'retrying', 'needs_admin'], apply: () => ({ state: 'paused' }) },
  // Resuming re-runs the current step, which checks its own effect first, so nothing repeats.
  resume: { from: ['paused', 'stopped'], apply: () => ({ state: 'queued', next_run_at: 0 }) },
  stop: { from: ['queued', 'waiting', 'retrying', 'needs_admin', 'paused', 'failed'], apply: () => ({ state: 'stopped' }) },
  retry: { from: ['failed', 'retrying'], apply: () => ({ state: 'queued', attempts: 0, next_run_at: 0, error_code: null, error_message: null }) },
  confirm: {
    from: ['needs_admin', 'waiting'],
    apply: (row) => {
      const next = nextStep(row.step);
      return { step: next?.id ?? row.step, state: next ? 'queued' : 'done', next_run_at: 0, manual_instructions: null };
    },
  },
};

export async function mailboxAction(app: AppContext, ref: string, action: MailboxAction, actor: string): Promise<MailboxRow> {
  const row = await findMailbox(app.db, ref);
  const transition = transitions[action];
  if (!transition.from.includes(row.state)) throw new CutoverError('ACTION_NOT_ALLOWED', { action, ref: row.address, state: row.state });
  const step = stepById(row.step);
  if (action === 'confirm' && step.level === 'domain') {
    await confirmDomainStep(app, row.project_id, row.domain_id, step.id, actor);
  } else {
    await updateMailbox(app.db, row.id, transition.apply(row));
    await recordEvent(app.db, { projectId: row.project_id, mailboxId: row.id, domainId: row.domain_id, step: row.step, outcome: action, message: `${action} by ${actor}`, actor });
  }
  return findMailbox(app.db, String(row.id));
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
