import type { Knex } from 'knex';
import type { AppContext } from '../context.ts';
import { recordEvent } from '../db/repos/events.ts';
import { projectById, projectOptions, type ProjectRow } from '../db/repos/projects.ts';
import { CutoverError } from '../errors.ts';
import { steps } from '../workflow/steps/index.ts';
import { checkMailboxRows, existingAddresses, RowsInvalidError, type MailboxInput, type NumberedRow } from './mailbox-rows.ts';
import { generatePassword } from './passwords.ts';

const INSERT_CHUNK = 200;

/** A project that is completed takes no new mailboxes: its worker is done with it. */
export function assertProjectOpen(project: ProjectRow): void {
  if (project.state !== 'active') throw new CutoverError('ACTION_NOT_ALLOWED', { action: 'add mailboxes to', ref: `project ${project.name}`, state: project.state });
}

/**
 * THE way mailboxes enter a project (CLI migrate, one-click, the add form, imports, the API):
 * creates the project's domain rows as needed, seals the passwords (a destination password is
 * generated when none is given, and reported once at the end), and queues each mailbox, or
 * leaves it paused before its first step when the project starts manually. Rows must be
 * checked already; this runs inside the caller's transaction so a failure leaves nothing.
 */
export async function insertMailboxes(trx: Knex, app: AppContext, project: ProjectRow, rows: MailboxInput[], actor: string, origin: string): Promise<string[]> {
  const options = projectOptions(project);
  const state = options.startMode === 'manual' ? 'paused' : 'queued';
  const domainIds = new Map<string, number>();
  for (const d of await trx('domains').where({ project_id: project.id }).select('id', 'name') as Array<{ id: number; name: string }>) domainIds.set(d.name, d.id);
  const now = new Date().toISOString();
  const records = [];
  for (const row of rows) {
    const domain = row.address.slice(row.address.lastIndexOf('@') + 1);
    if (!domainIds.has(domain)) {
      const [inserted] = await trx('domains').insert({ project_id: project.id, name: domain }).returning('id');
      domainIds.set(domain, typeof inserted === 'object' ? inserted.id : inserted);
    }
    records.push({
      project_id: project.id, domain_id: domainIds.get(domain)!, address: row.address, state, step: steps[0]!.id, next_run_at: 0,
      source_password_sealed: row.sourcePassword ? app.box.seal(row.sourcePassword) : null,
      source_login_sealed: row.sourceLogin ? app.box.seal(row.sourceLogin) : null,
      dest_login_sealed: row.destLogin ? app.box.seal(row.destLogin) : null,
      dest_password_sealed: app.box.seal(row.destPassword || generatePassword()),
      dest_password_generated: !row.destPassword,
      created_at: now, updated_at: now,
    });
  }
  for (let i = 0; i < records.length; i += INSERT_CHUNK) await trx('mailboxes').insert(records.slice(i, i + INSERT_CHUNK));
  const shown = rows.slice(0, 20).map((r) => r.address).join(', ') + (rows.length > 20 ? ', …' : '');
  await recordEvent(trx, {
    projectId: project.id, outcome: 'mailboxes-added', actor,
    message: `${rows.length} mailbox(es) added ${origin}${state === 'paused' ? ', waiting for Start' : ''}: ${shown}`,
  });
  return rows.map((r) => r.address);
}

/**
 * Adds mailboxes to a project, all or none: every row goes through the same checks as an
 * import's dry run, and any problem refuses the whole batch with each row's reasons.
 */
export async function addMailboxes(app: AppContext, projectId: number, rows: NumberedRow[], actor: string, origin = 'by hand'): Promise<string[]> {
  const project = await projectById(app.db, projectId);
  assertProjectOpen(project);
  if (rows.length === 0) throw new CutoverError('INPUT_INVALID', { detail: 'no mailbox given' });
  const checked = await checkMailboxRows(app, project, rows);
  if (checked.some((r) => r.errors.length > 0)) throw new RowsInvalidError(checked);
  return app.db.transaction(async (trx) => {
    await assertStillFree(trx, project, checked.map((r) => r.address));
    return insertMailboxes(trx, app, project, checked, actor, origin);
  });
}

/**
 * No address may be migrated twice at once: not twice in a project, not by two active projects.
 * Checked inside the writing transaction, since the dry run ran earlier and another admin may have
 * added some of the rows since.
 */
export async function assertStillFree(trx: Knex, project: Pick<ProjectRow, 'id'>, addresses: string[]): Promise<void> {
  const taken = await existingAddresses(trx, project.id, addresses);
  if (taken.size === 0) return;
  const names = [...taken.entries()].map(([address, where]) => where.projectId === project.id ? `${address} (this project)` : `${address} (project ${where.project}: complete or remove it first)`);
  throw new CutoverError('INPUT_INVALID', { detail: `already being migrated, so nothing was added: ${names.slice(0, 10).join(', ')}${names.length > 10 ? ', …' : ''}` });
}
