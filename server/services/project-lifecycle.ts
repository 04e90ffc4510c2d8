import type { AppContext } from '../context.ts';
import type { Db } from '../db/knex.ts';
import { recordAudit } from '../db/repos/audit.ts';
import { recordEvent } from '../db/repos/events.ts';
import type { MailboxState } from '../db/repos/mailboxes.ts';
import { projectById, projectOptions, type ProjectRow } from '../db/repos/projects.ts';
import { CutoverError } from '../errors.ts';
import { steps } from '../workflow/steps/index.ts';
import { projectAction } from './actions.ts';

/** Mailboxes the worker may pick up, or that wait on an admin mid-step: a project with any of them is still running. */
const RUNNING: MailboxState[] = ['queued', 'waiting', 'retrying', 'needs_admin'];
/** A completed project is over: no mailbox may still be on its way (a paused one would be abandoned half-way). */
const UNFINISHED: MailboxState[] = [...RUNNING, 'paused'];

export type ProjectState = 'active' | 'completed';

// What cutover keeps per mailbox and per project, removed with the project. Tables a newer
// migration adds are listed here too; one not created yet (an older database) is skipped.
const MAILBOX_TABLES = ['ledger', 'skips', 'checkpoints', 'sync_points', 'progress_samples', 'letters', 'one_time_links'];
const PROJECT_TABLES = ['imports', 'notifications', 'events', 'state_samples', 'letter_templates'];

/** Counts by state of the mailboxes in `states`, plus those a worker holds right now whatever their state. */
async function busy(db: Db, project: ProjectRow, states: MailboxState[]): Promise<{ count: number; states: string }> {
  const rows: Array<{ state: string; n: number | string }> = await db('mailboxes').where({ project_id: project.id })
    .andWhere((q) => q.whereIn('state', states).orWhere('locked_until', '>', Date.now()))
    .select('state').count({ n: '*' }).groupBy('state');
  return { count: rows.reduce((n, r) => n + Number(r.n), 0), states: rows.map((r) => `${Number(r.n)} ${r.state}`).join(', ') };
}

/** What the project page offers: Start while some mailboxes wait for it, Complete and Remove with what they would refuse. */
export async function projectControls(app: AppContext, projectId: number): Promise<{ state: string; startMode: string; notStarted: number; running: number; unfinished: number }> {
  const project = await projectById(app.db, projectId);
  const [notStarted] = await app.db('mailboxes').where({ project_id: project.id, state: 'paused', step: steps[0]!.id, attempts: 0 }).whereNull('preflight').count({ n: '*' });
  const grouped: Array<{ state: string; n: number | string }> = await app.db('mailboxes').where({ project_id: project.id }).whereIn('state', UNFINISHED).select('state').count({ n: '*' }).groupBy('state');
  const sum = (states: MailboxState[]) => grouped.filter((g) => (states as string[]).includes(g.state)).reduce((n, g) => n + Number(g.n), 0);
  return { state: project.state, startMode: projectOptions(project).startMode, notStarted: Number(notStarted?.n ?? 0), running: sum(RUNNING), unfinished: sum(UNFINISHED) };
}

/** Start: every mailbox still waiting before its first step is queued (the manual start mode's button). */
export async function startProject(app: AppContext, projectId: number, actor: string): Promise<{ started: number }> {
  const project = await projectById(app.db, projectId);
  if (project.state !== 'active') throw new CutoverError('ACTION_NOT_ALLOWED', { action: 'start', ref: `project ${project.name}`, state: project.state });
  const { done } = await projectAction(app, project.id, 'start', 'paused', actor);
  await recordEvent(app.db, { projectId: project.id, outcome: 'started', message: `project started by ${actor}: ${done} mailbox(es) queued`, actor });
  return { started: done };
}

/** Stop: every mailbox that can be stopped is (what was copied stays); a stopped mailbox can be resumed later. */
export async function stopProject(app: AppContext, projectId: number, actor: string): Promise<{ stopped: number; skipped: number }> {
  const project = await projectById(app.db, projectId);
  const { done, skipped } = await projectAction(app, project.id, 'stop', undefined, actor);
  await recordEvent(app.db, { projectId: project.id, outcome: 'stopped', message: `project stopped by ${actor}: ${done} mailbox(es) stopped`, actor });
  return { stopped: done, skipped };
}

/**
 * Complete: the admin closes the project once every mailbox is done, stopped or failed. The
 * worker ignores a completed project and its mailboxes take no more actions that would queue
 * them; its rows, report and timeline stay. Completing twice is no error.
 */
export async function completeProject(app: AppContext, projectId: number, actor: string): Promise<{ state: ProjectState }> {
  const project = await projectById(app.db, projectId);
  if (project.state === 'completed') return { state: 'completed' };
  const open = await busy(app.db, project, UNFINISHED);
  if (open.count > 0) throw new CutoverError('PROJECT_BUSY', { action: 'complete', name: project.name, count: open.count, states: open.states });
  await app.db.transaction(async (trx) => {
    await trx('projects').where({ id: project.id }).update({ state: 'completed' });
    await recordEvent(trx, { projectId: project.id, outcome: 'completed', message: `project completed by ${actor}`, actor });
  });
  return { state: 'completed' };
}

/**
 * Remove: forgets a project and everything cutover stored for it (mailboxes, ledger, skips,
 * checkpoints, events, domains, pending imports), in one transaction. Nothing on either
 * platform is touched. Refused while a mailbox is running: pause or stop it first. The
 * project's events go with it, so the removal is recorded in the audit trail.
 */
export async function removeProject(app: AppContext, projectId: number, actor: string): Promise<{ removed: string; mailboxes: number }> {
  const project = await projectById(app.db, projectId);
  return app.db.transaction(async (trx) => {
    const open = await busy(trx, project, RUNNING);
    if (open.count > 0) throw new CutoverError('PROJECT_BUSY', { action: 'remove', name: project.name, count: open.count, states: open.states });
    const [counted] = await trx('mailboxes').where({ project_id: project.id }).count({ n: '*' });
    for (const table of MAILBOX_TABLES) {
      if (await trx.schema.hasTable(table)) await trx(table).whereIn('mailbox_id', trx('mailboxes').where({ project_id: project.id }).select('id')).delete();
    }
    await trx('import_rows').whereIn('import_id', trx('imports').where({ project_id: project.id }).select('id')).delete();
    for (const table of PROJECT_TABLES) {
      if (await trx.schema.hasTable(table)) await trx(table).where({ project_id: project.id }).delete();
    }
    await trx('mailboxes').where({ project_id: project.id }).delete();
    await trx('domain_steps').whereIn('domain_id', trx('domains').where({ project_id: project.id }).select('id')).delete();
    await trx('domains').where({ project_id: project.id }).delete();
    await trx('projects').where({ id: project.id }).delete();
    const mailboxes = Number(counted?.n ?? 0);
    await recordAudit(trx, { actor, action: 'project.remove', target: project.name, detail: `${mailboxes} mailbox(es); nothing changed on the platforms` });
    return { removed: project.name, mailboxes };
  });
}
