// Data retention (OMM's "Delete migration data"): N days after a project ends (default 60), or at
// once on an admin's request, cutover deletes what it stored to do the migration and no longer
// needs: the stored passwords and logins, the import rows, the ledger's per-message rows, the skip
// list, the groupware ledger, the one-time links, and the project's files under the data directory.
// It keeps the counts (on each mailbox row), the events and the audit trail. Each purge is audited
// with what it removed.
import { rm } from 'node:fs/promises';
import path from 'node:path';
import cron from 'node-cron';
import type { AppContext } from '../context.ts';
import type { Db } from '../db/knex.ts';
import { recordAudit } from '../db/repos/audit.ts';
import { recordEvent } from '../db/repos/events.ts';
import { projectById, projectOptionsSchema, type ProjectRow } from '../db/repos/projects.ts';
import { folderTallies, mailboxTallies, zeroTally } from '../db/repos/tallies.ts';
import type { KeptTally } from './kept-tallies.ts';
import { CutoverError } from '../errors.ts';
import { isPostgres } from '../workflow/lease.ts';
import { isRunning, removeUpload } from '../files/uploads.ts';

const DAY_MS = 86_400_000;
/** Mailbox states in which nothing more will happen by itself. */
const AT_REST = ['done', 'stopped', 'failed'];
export const DEFAULT_PURGE_SCHEDULE = '17 * * * *';

/** Per-message tables keyed by mailbox, deleted by a purge (a table a newer migration adds is skipped on an older database). */
const PER_MESSAGE_TABLES = ['ledger', 'skips', 'checkpoints', 'groupware_items', 'groupware_skips', 'one_time_links'];
const SECRET_COLUMNS = { source_password_sealed: null, dest_password_sealed: null, source_login_sealed: null, dest_login_sealed: null };

/** Where a project's files live under the data directory (uploads, sealed import files): removed by the purge. */
export function projectFilesDir(dataDir: string, projectId: number): string {
  return path.join(dataDir, 'projects', String(projectId));
}

export interface PurgeSummary { project: string; mailboxes: number; secrets: number; ledgerRows: number; skipRows: number; otherRows: number; importRows: number; uploads: number; files: boolean }

/** When the project ended: completed by an admin, or every mailbox at rest (done, stopped, failed); null while it runs. */
export async function projectEndedAt(db: Db, project: ProjectRow): Promise<string | null> {
  if (project.ended_at) return project.ended_at;
  if (project.state === 'completed') {
    const completed = await db('events').where({ project_id: project.id, outcome: 'completed' }).whereNull('mailbox_id').max({ at: 'at' }).first();
    if (completed?.at) return String(completed.at);
  }
  const [open] = await db('mailboxes').where({ project_id: project.id }).where((q) => q.whereNotIn('state', AT_REST).orWhere('locked_until', '>', Date.now())).count({ n: '*' });
  if (Number(open?.n ?? 0) > 0) return null;
  const last = await db('mailboxes').where({ project_id: project.id }).max({ at: 'updated_at' }).first();
  return last?.at ? String(last.at) : null;
}

/** Purges one project's migration data now. Refused while anything of it still runs. */
export async function purgeProjectData(app: AppContext, projectId: number, actor: string, reason: 'retention' | 'admin'): Promise<PurgeSummary> {
  const project = await projectById(app.db, projectId);
  const [running] = await app.db('mailboxes').where({ project_id: project.id }).where((q) => q.whereNotIn('state', [...AT_REST, 'paused']).orWhere('locked_until', '>', Date.now())).count({ n: '*' });
  if (Number(running?.n ?? 0) > 0) {
    const rows: Array<{ state: string; n: number | string }> = await app.db('mailboxes').where({ project_id: project.id }).whereNotIn('state', [...AT_REST, 'paused']).select('state').count({ n: '*' }).groupBy('state');
    throw new CutoverError('PROJECT_BUSY', { action: 'purge the data of', name: project.name, count: Number(running!.n), states: rows.map((r) => `${Number(r.n)} ${r.state}`).join(', ') || 'held by a worker' });
  }
  const ids = app.db('mailboxes').where({ project_id: project.id }).select('id');
  const uploads: Array<{ id: number }> = await app.db('file_uploads').whereIn('mailbox_id', ids.clone()).select('id');
  if (uploads.some((u) => isRunning(u.id))) throw new CutoverError('PROJECT_BUSY', { action: 'purge the data of', name: project.name, count: uploads.filter((u) => isRunning(u.id)).length, states: 'file imports running' });
  // The counts stay: what the ledger and the skip list say now is kept on each mailbox row.
  const tallies = await mailboxTallies(app.db, ids.clone());
  const summary: PurgeSummary = { project: project.name, mailboxes: 0, secrets: 0, ledgerRows: 0, skipRows: 0, otherRows: 0, importRows: 0, uploads: 0, files: false };
  await app.db.transaction(async (trx) => {
    const mailboxes: Array<{ id: number; purged_tally: string | null; s: string | null; d: string | null; sl: string | null; dl: string | null }> = await trx('mailboxes').where({ project_id: project.id })
      .select('id', 'purged_tally', 'source_password_sealed as s', 'dest_password_sealed as d', 'source_login_sealed as sl', 'dest_login_sealed as dl');
    summary.mailboxes = mailboxes.length;
    summary.secrets = mailboxes.reduce((n, m) => n + [m.s, m.d, m.sl, m.dl].filter(Boolean).length, 0);
    for (const m of mailboxes) {
      const now = tallies.get(m.id);
      const live = now && now.copiedMessages + now.skippedMessages + now.refusedMessages > 0;
      const kept: KeptTally = live ? { ...now, folders: Object.fromEntries(await folderTallies(trx, m.id)) } : (m.purged_tally ? JSON.parse(m.purged_tally) : zeroTally());
      await trx('mailboxes').where({ id: m.id }).update({ ...SECRET_COLUMNS, purged_tally: JSON.stringify(kept) });
    }
    for (const table of PER_MESSAGE_TABLES) {
      if (!await trx.schema.hasTable(table)) continue;
      const removed = await trx(table).whereIn('mailbox_id', trx('mailboxes').where({ project_id: project.id }).select('id')).delete();
      if (table === 'ledger') summary.ledgerRows = removed;
      else if (table === 'skips') summary.skipRows = removed;
      else summary.otherRows += removed;
    }
    summary.importRows = await trx('import_rows').whereIn('import_id', trx('imports').where({ project_id: project.id }).select('id')).delete();
    await trx('imports').where({ project_id: project.id }).delete();
    const endedAt = project.ended_at ?? await projectEndedAt(trx, project) ?? new Date().toISOString();
    await trx('projects').where({ id: project.id }).update({ purged_at: new Date().toISOString(), ended_at: endedAt });
  });
  await rm(projectFilesDir(app.config.dataDir, project.id), { recursive: true, force: true }).then(() => { summary.files = true; });
  // Uploaded files (a PST holds a whole mailbox) go with the rest of the migration data.
  for (const upload of uploads) await removeUpload(app, upload.id);
  summary.uploads = uploads.length;
  await compactStorage(app.db);
  const detail = `${reason === 'retention' ? 'retention period over' : 'requested by an admin'}: ${summary.mailboxes} mailbox(es), ${summary.secrets} stored password(s)/login(s), ${summary.ledgerRows} ledger row(s), ${summary.skipRows} skip row(s), ${summary.otherRows} other per-message row(s), ${summary.importRows} import row(s), ${summary.uploads} uploaded file(s), project files removed; counts, events and audit kept`;
  await recordAudit(app.db, { actor, action: 'project.purge', target: project.name, detail });
  await recordEvent(app.db, { projectId: project.id, outcome: 'purged', message: `migration data deleted (${detail})`, actor });
  app.log.info({ ...summary, reason }, 'project data purged');
  return summary;
}

// SQLite keeps deleted rows in free pages and in the write-ahead log until they are reused: the
// purge rewrites the file and empties the log, so nothing purged can be read back from the disk.
async function compactStorage(db: Db): Promise<void> {
  if (isPostgres(db)) { await db.raw('VACUUM'); return; }
  await db.raw('PRAGMA wal_checkpoint(TRUNCATE)');
  await db.raw('VACUUM');
  await db.raw('PRAGMA wal_checkpoint(TRUNCATE)');
}

/** What the project page shows: when the data goes, or when it went. */
export async function retentionStatus(db: Db, project: ProjectRow): Promise<{ days: number; endedAt: string | null; purgeAt: string | null; purgedAt: string | null }> {
  const parsed = projectOptionsSchema.safeParse(JSON.parse(project.options));
  const days = parsed.success ? parsed.data.retentionDays : 60;
  const endedAt = await projectEndedAt(db, project);
  return { days, endedAt, purgeAt: endedAt ? new Date(Date.parse(endedAt) + days * DAY_MS).toISOString() : null, purgedAt: project.purged_at ?? null };
}

/** The job: records when each project ended, and purges those whose retention period is over. */
export async function purgeExpired(app: AppContext, now = Date.now()): Promise<PurgeSummary[]> {
  const done: PurgeSummary[] = [];
  const projects: ProjectRow[] = await app.db('projects').whereNull('purged_at');
  for (const project of projects) {
    const endedAt = await projectEndedAt(app.db, project);
    if (!endedAt) continue;
    if (!project.ended_at) await app.db('projects').where({ id: project.id }).update({ ended_at: endedAt });
    const { days } = await retentionStatus(app.db, { ...project, ended_at: endedAt });
    if (Date.parse(endedAt) + days * DAY_MS > now) continue;
    try {
      done.push(await purgeProjectData(app, project.id, 'retention job', 'retention'));
    } catch (err) {
      app.log.warn({ project: project.name, err: (err as Error).message }, 'retention purge skipped');
    }
  }
  return done;
}

/** Starts the job beside the panel (CUTOVER_RETENTION_PURGE: a cron schedule, default hourly; "off" disables it). */
export function startRetentionJob(app: AppContext, schedule = DEFAULT_PURGE_SCHEDULE): { stop(): Promise<void> } {
  if (!cron.validate(schedule)) throw new CutoverError('CONFIG_INVALID', { where: ' in CUTOVER_RETENTION_PURGE', detail: `not a cron schedule: ${schedule}` });
  const task = cron.schedule(schedule, async () => {
    const purged = await purgeExpired(app).catch((err) => { app.log.warn({ err }, 'retention purge failed'); return []; });
    if (purged.length) app.log.info({ purged: purged.map((p) => p.project) }, 'retention purge done');
  }, { noOverlap: true, name: 'retention-purge' });
  return { stop: async () => { await task.destroy(); } };
}
