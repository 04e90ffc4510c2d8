import type { AppContext } from '../context.ts';
import { recordEvent } from '../db/repos/events.ts';
import { projectById } from '../db/repos/projects.ts';
import { CutoverError } from '../errors.ts';
import { parseMailboxFile } from './import-parse.ts';
import { checkMailboxRows, type CheckedRow, type MailboxInput, type RowNoticeCode, type RowProblem } from './mailbox-rows.ts';
import { assertProjectOpen, assertStillFree, insertMailboxes } from './project-mailboxes.ts';

export interface PendingImport { id: number; projectId: number; fileName: string; total: number; bad: number; createdBy: string; createdAt: string }

/** A checked row as pages and the API show it: whether passwords were given, never what they are. */
export interface ImportRowView {
  line: number;
  address: string;
  sourcePassword: boolean;
  destPassword: boolean;
  errors: RowProblem[];
  warnings: Array<RowProblem<RowNoticeCode>>;
}

interface ImportRowRecord {
  import_id: number; line: number; address: string; source_password_sealed: string | null; dest_password_sealed: string | null;
  source_login_sealed: string | null; dest_login_sealed: string | null; bad: number | boolean; problems: string;
}
interface ImportRecord { id: number; project_id: number; file_name: string; total: number; bad: number; created_by: string; created_at: string }

const INSERT_CHUNK = 100;
const MAX_FILE_NAME = 200;

function toPending(row: ImportRecord): PendingImport {
  return { id: row.id, projectId: row.project_id, fileName: row.file_name, total: Number(row.total), bad: Number(row.bad), createdBy: row.created_by, createdAt: row.created_at };
}

function toView(row: ImportRowRecord): ImportRowView {
  const problems = JSON.parse(row.problems) as Pick<ImportRowView, 'errors' | 'warnings'>;
  return { line: row.line, address: row.address, sourcePassword: row.source_password_sealed !== null, destPassword: row.dest_password_sealed !== null, ...problems };
}

export async function pendingImport(app: AppContext, projectId: number): Promise<PendingImport | null> {
  const row = await app.db<ImportRecord>('imports').where({ project_id: projectId }).first();
  return row ? toPending(row) : null;
}

/** One slice of a dry run's rows, the bad or the clean ones, in file order. */
export async function importRows(app: AppContext, importId: number, opts: { bad: boolean; limit: number }): Promise<ImportRowView[]> {
  const rows: ImportRowRecord[] = await app.db('import_rows').where({ import_id: importId, bad: opts.bad }).orderBy('line').limit(opts.limit);
  return rows.map(toView);
}

/**
 * The dry run of an import: reads the file, checks every row (see checkMailboxRows) and keeps
 * the result server-side, passwords sealed, until the admin imports it or uploads another file,
 * which replaces it. Nothing is added to the project here.
 */
export async function dryRunImport(app: AppContext, projectId: number, file: { data: Buffer; name: string }, actor: string): Promise<PendingImport> {
  const project = await projectById(app.db, projectId);
  assertProjectOpen(project);
  const checked = await checkMailboxRows(app, project, await parseMailboxFile(file.data, app.config.importLimits));
  const bad = checked.filter((r) => r.errors.length > 0).length;
  const fileName = (file.name || 'upload').replace(/[\r\n]/g, ' ').slice(0, MAX_FILE_NAME);
  return app.db.transaction(async (trx) => {
    await trx('import_rows').whereIn('import_id', trx('imports').where({ project_id: project.id }).select('id')).delete();
    await trx('imports').where({ project_id: project.id }).delete();
    const [inserted] = await trx('imports').insert({ project_id: project.id, file_name: fileName, total: checked.length, bad, created_by: actor, created_at: new Date().toISOString() }).returning('id');
    const importId = typeof inserted === 'object' ? inserted.id : inserted;
    const records = checked.map((r) => sealRow(app, importId, r));
    for (let i = 0; i < records.length; i += INSERT_CHUNK) await trx('import_rows').insert(records.slice(i, i + INSERT_CHUNK));
    await recordEvent(trx, { projectId: project.id, outcome: 'import-checked', message: `${fileName} checked by ${actor}: ${checked.length} row(s), ${bad} with problems`, actor });
    return toPending((await trx<ImportRecord>('imports').where({ id: importId }).first())!);
  });
}

function sealRow(app: AppContext, importId: number, row: CheckedRow): ImportRowRecord {
  return {
    import_id: importId, line: row.line, address: row.address.slice(0, 320),
    source_password_sealed: row.sourcePassword ? app.box.seal(row.sourcePassword) : null,
    dest_password_sealed: row.destPassword ? app.box.seal(row.destPassword) : null,
    source_login_sealed: row.sourceLogin ? app.box.seal(row.sourceLogin) : null,
    dest_login_sealed: row.destLogin ? app.box.seal(row.destLogin) : null,
    bad: row.errors.length > 0, problems: JSON.stringify({ errors: row.errors, warnings: row.warnings }),
  };
}

/**
 * Imports a checked file: all of it when it is clean, or only its clean rows when the admin
 * drops the bad ones. `importId` is the dry run the admin looked at: if another upload replaced
 * it meanwhile, nothing is imported. The mailboxes are added and the dry run forgotten in one
 * transaction; any refusal leaves the dry run as it was.
 */
export async function commitImport(app: AppContext, projectId: number, opts: { importId?: number; dropBad: boolean }, actor: string): Promise<{ added: string[]; dropped: number }> {
  const project = await projectById(app.db, projectId);
  assertProjectOpen(project);
  const pending = await pendingImport(app, project.id);
  if (!pending) throw new CutoverError('INPUT_INVALID', { detail: 'there is no checked file to import: upload one first' });
  if (opts.importId !== undefined && opts.importId !== pending.id) throw new CutoverError('INPUT_INVALID', { detail: `another file (${pending.fileName}) was checked since: review its rows, then import` });
  if (pending.bad > 0 && !opts.dropBad) throw new CutoverError('INPUT_INVALID', { detail: `${pending.bad} row(s) of ${pending.fileName} have problems: fix the file and upload it again, or drop the bad rows` });
  if (pending.bad === pending.total) throw new CutoverError('INPUT_INVALID', { detail: `no row of ${pending.fileName} can be imported` });
  return app.db.transaction(async (trx) => {
    const good: ImportRowRecord[] = await trx('import_rows').where({ import_id: pending.id, bad: false }).orderBy('line');
    const rows: MailboxInput[] = good.map((r) => ({
      address: r.address,
      sourcePassword: r.source_password_sealed ? app.box.open(r.source_password_sealed) : undefined,
      destPassword: r.dest_password_sealed ? app.box.open(r.dest_password_sealed) : undefined,
      sourceLogin: r.source_login_sealed ? app.box.open(r.source_login_sealed) : undefined,
      destLogin: r.dest_login_sealed ? app.box.open(r.dest_login_sealed) : undefined,
    }));
    await assertStillFree(trx, project, rows.map((r) => r.address));
    const added = await insertMailboxes(trx, app, project, rows, actor, `from ${pending.fileName}${pending.bad ? ` (${pending.bad} bad row(s) dropped)` : ''}`);
    await trx('import_rows').where({ import_id: pending.id }).delete();
    await trx('imports').where({ id: pending.id }).delete();
    return { added, dropped: pending.bad };
  });
}

/** Forgets a checked file without importing anything. */
export async function discardImport(app: AppContext, projectId: number, actor: string): Promise<void> {
  const project = await projectById(app.db, projectId);
  await app.db.transaction(async (trx) => {
    const pending = await trx<ImportRecord>('imports').where({ project_id: project.id }).first();
    if (!pending) return;
    await trx('import_rows').where({ import_id: pending.id }).delete();
    await trx('imports').where({ id: pending.id }).delete();
    await recordEvent(trx, { projectId: project.id, outcome: 'import-discarded', message: `${pending.file_name} discarded by ${actor}; nothing imported`, actor });
  });
}
