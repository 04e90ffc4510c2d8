// Files uploaded to the panel for a mailbox's file import. Each upload is a row (file_uploads) and
// a private directory `<data dir>/uploads/<id>/` holding the one file under a cleaned copy of its
// name (the name matters: an mbox's folder comes from it, and the content is checked against it).
//
// Resumable, tus-like: the client announces the size (create), then sends the bytes in PATCHes
// that each say where they start (Upload-Offset); the offset is the file's size on disk, so after
// a cut (network, browser, server restart) HEAD says where to go on and nothing is sent twice.
// Bytes go from the request straight to disk: memory does not depend on the file's size.
import { createWriteStream } from 'node:fs';
import { mkdir, open, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { AppContext } from '../context.ts';
import { mailboxById } from '../db/repos/mailboxes.ts';
import { projectById } from '../db/repos/projects.ts';
import { CutoverError } from '../errors.ts';
import { dbGroupwareLedger } from '../groupware/ledger.ts';
import { importFiles, type FileImportReport } from './import.ts';

export type UploadState = 'uploading' | 'uploaded' | 'checking' | 'checked' | 'importing' | 'imported' | 'failed';

export interface UploadRow {
  id: number;
  mailbox_id: number;
  name: string;
  size: number;
  state: UploadState;
  plan: string | null;
  progress: string | null;
  report: string | null;
  error: string | null;
  created_by: string;
  created_at: string;
  updated_at: string;
}

export interface UploadView {
  id: number;
  mailboxId: number;
  name: string;
  size: number;
  /** Bytes on disk: where a resumed upload goes on. */
  offset: number;
  state: UploadState;
  progress: { copied: number; seen: number; bytes: number } | null;
  plan: FileImportReport | null;
  report: FileImportReport | null;
  error: string | null;
  createdAt: string;
}

/** The default largest file (CUTOVER_UPLOAD_MAX_MB overrides): a 20 GB PST still fits. */
export const DEFAULT_UPLOAD_MAX_BYTES = 20 * 1024 * 1024 * 1024;
const MAX_NAME = 200;

export function uploadMaxBytes(env: NodeJS.ProcessEnv = process.env): number {
  const mb = Number(env.CUTOVER_UPLOAD_MAX_MB);
  return Number.isFinite(mb) && mb > 0 ? Math.floor(mb * 1024 * 1024) : DEFAULT_UPLOAD_MAX_BYTES;
}

/** A file name that is only a name: no directory part, no leading dot, no control or path characters. */
export function cleanName(name: string): string {
  const base = name.replace(/\\/g, '/').split('/').pop() ?? '';
  const cleaned = base.normalize('NFC').replace(/[\u0000-\u001f\u007f<>:"|?*]/g, '_').replace(/^[.\s]+/, '').trim().slice(-MAX_NAME);
  return cleaned || 'upload';
}

const now = () => new Date().toISOString();

export function uploadsRoot(app: AppContext): string {
  return path.join(app.config.dataDir, 'uploads');
}

function uploadDir(app: AppContext, id: number): string {
  return path.join(uploadsRoot(app), String(id));
}

export function uploadPath(app: AppContext, row: Pick<UploadRow, 'id' | 'name'>): string {
  return path.join(uploadDir(app, row.id), row.name);
}

async function onDisk(app: AppContext, row: UploadRow): Promise<number> {
  try {
    return (await stat(uploadPath(app, row))).size;
  } catch {
    return 0;
  }
}

const parse = <T>(text: string | null): T | null => (text ? JSON.parse(text) as T : null);

async function view(app: AppContext, row: UploadRow): Promise<UploadView> {
  return {
    id: row.id, mailboxId: row.mailbox_id, name: row.name, size: Number(row.size), offset: await onDisk(app, row), state: row.state,
    progress: parse(row.progress), plan: parse(row.plan), report: parse(row.report), error: row.error, createdAt: row.created_at,
  };
}

async function rowOf(app: AppContext, mailboxId: number | undefined, id: number): Promise<UploadRow> {
  const row = Number.isInteger(id) && id > 0 ? await app.db('file_uploads').where({ id }).first() as UploadRow | undefined : undefined;
  if (!row || (mailboxId !== undefined && row.mailbox_id !== mailboxId)) throw new CutoverError('UPLOAD_UNKNOWN', { ref: String(id) });
  return row;
}

export async function uploadById(app: AppContext, id: number, mailboxId?: number): Promise<UploadView> {
  return view(app, await rowOf(app, mailboxId, id));
}

export async function uploadsOf(app: AppContext, mailboxId: number): Promise<UploadView[]> {
  const rows = await app.db('file_uploads').where({ mailbox_id: mailboxId }).orderBy('id', 'desc').limit(100) as UploadRow[];
  return Promise.all(rows.map((r) => view(app, r)));
}

/** A mailbox's uploads as the workflow sees them (no disk access: a worker may run elsewhere). */
export async function importsOf(db: AppContext['db'], mailboxId: number): Promise<Array<{ name: string; state: UploadState; report: FileImportReport | null; error: string | null }>> {
  const rows = await db('file_uploads').where({ mailbox_id: mailboxId }).orderBy('id').select('name', 'state', 'report', 'error') as Array<Pick<UploadRow, 'name' | 'state' | 'report' | 'error'>>;
  return rows.map((r) => ({ name: r.name, state: r.state, report: parse<FileImportReport>(r.report), error: r.error }));
}

/** Every mailbox of a project with its uploads (newest first): the project's file-import page. */
export async function projectUploads(app: AppContext, projectId: number): Promise<Array<{ id: number; address: string; uploads: UploadView[] }>> {
  await projectById(app.db, projectId);
  const mailboxes = await app.db('mailboxes').where({ project_id: projectId }).orderBy('address').select('id', 'address').limit(5000) as Array<{ id: number; address: string }>;
  const rows = await app.db('file_uploads').whereIn('mailbox_id', app.db('mailboxes').where({ project_id: projectId }).select('id')).orderBy('id', 'desc') as UploadRow[];
  const byMailbox = new Map<number, UploadView[]>();
  for (const row of rows) byMailbox.set(row.mailbox_id, [...byMailbox.get(row.mailbox_id) ?? [], await view(app, row)]);
  return mailboxes.map((m) => ({ id: m.id, address: m.address, uploads: byMailbox.get(m.id) ?? [] }));
}

async function update(app: AppContext, id: number, patch: Partial<UploadRow>): Promise<void> {
  await app.db('file_uploads').where({ id }).update({ ...patch, updated_at: now() });
}

/** Announces an upload: its name and size (checked against the limit before a byte is sent). */
export async function createUpload(app: AppContext, mailboxId: number, spec: { name: string; size: number }, actor: string, limit = uploadMaxBytes()): Promise<UploadView> {
  await mailboxById(app.db, mailboxId);
  const name = cleanName(String(spec.name ?? ''));
  const size = Number(spec.size);
  if (!Number.isSafeInteger(size) || size <= 0) throw new CutoverError('INPUT_INVALID', { detail: `size: a positive number of bytes is needed, not ${String(spec.size)}` });
  if (size > limit) throw new CutoverError('UPLOAD_TOO_LARGE', { name, size, limit });
  const [inserted] = await app.db('file_uploads').insert({
    mailbox_id: mailboxId, name, size, state: 'uploading', created_by: actor.slice(0, 320), created_at: now(), updated_at: now(),
  }).returning('id');
  const id = Number(typeof inserted === 'object' ? (inserted as { id: number }).id : inserted);
  await mkdir(uploadsRoot(app), { recursive: true, mode: 0o700 });
  await mkdir(uploadDir(app, id), { mode: 0o700 });
  await (await open(uploadPath(app, { id, name }), 'wx', 0o600)).close();
  return uploadById(app, id);
}

/**
 * Appends the bytes of `body` at `offset`, which must be where the file on disk ends; stops (and
 * keeps what arrived) when the body would go past the announced size. Returns the new offset.
 */
export async function appendChunk(app: AppContext, id: number, offset: number, body: Readable, mailboxId?: number): Promise<UploadView> {
  const row = await rowOf(app, mailboxId, id);
  if (row.state !== 'uploading') throw new CutoverError('UPLOAD_STATE', { name: row.name, state: row.state, detail: 'it is complete; nothing more can be added' });
  const size = Number(row.size);
  const there = await onDisk(app, row);
  if (!Number.isSafeInteger(offset) || offset !== there) throw new CutoverError('UPLOAD_OFFSET', { name: row.name, offset: there, sent: String(offset) });
  let received = 0;
  let over = false;
  const out = createWriteStream(uploadPath(app, row), { flags: 'r+', start: offset, mode: 0o600 });
  await pipeline(body, async function* limit(source: AsyncIterable<Buffer>) {
    for await (const chunk of source) {
      if (offset + received + chunk.length > size) {
        over = true;
        yield chunk.subarray(0, size - offset - received);
        received = size - offset;
        break;
      }
      received += chunk.length;
      yield chunk;
    }
  }, out).catch((err: unknown) => {
    // A cut mid-chunk keeps what reached the disk; the client asks (HEAD) and goes on from there.
    if (!over) throw err;
  });
  const done = await onDisk(app, row);
  if (over) throw new CutoverError('UPLOAD_TOO_LARGE', { name: row.name, size: offset + received + 1, limit: size });
  if (done === size) await update(app, id, { state: 'uploaded' });
  return uploadById(app, id);
}

/** Writes a whole stream (a multipart file part) as a new upload, for the form without JavaScript and the API. */
export async function uploadWhole(app: AppContext, mailboxId: number, name: string, body: Readable, actor: string, limit = uploadMaxBytes()): Promise<UploadView> {
  await mailboxById(app.db, mailboxId);
  const clean = cleanName(name);
  const [inserted] = await app.db('file_uploads').insert({
    mailbox_id: mailboxId, name: clean, size: 0, state: 'uploading', created_by: actor.slice(0, 320), created_at: now(), updated_at: now(),
  }).returning('id');
  const id = Number(typeof inserted === 'object' ? (inserted as { id: number }).id : inserted);
  await mkdir(uploadsRoot(app), { recursive: true, mode: 0o700 });
  await mkdir(uploadDir(app, id), { mode: 0o700 });
  let received = 0;
  let over = false;
  try {
    await pipeline(body, async function* limited(source: AsyncIterable<Buffer>) {
      for await (const chunk of source) {
        received += chunk.length;
        if (received > limit) { over = true; throw new Error('over the limit'); }
        yield chunk;
      }
    }, createWriteStream(uploadPath(app, { id, name: clean }), { flags: 'wx', mode: 0o600 }));
  } catch (err) {
    await removeUpload(app, id);
    if (over) throw new CutoverError('UPLOAD_TOO_LARGE', { name: clean, size: received, limit });
    throw err;
  }
  if (received === 0) {
    await removeUpload(app, id);
    throw new CutoverError('INPUT_INVALID', { detail: `${clean}: the file is empty` });
  }
  await update(app, id, { size: received, state: 'uploaded' });
  return uploadById(app, id);
}

export async function removeUpload(app: AppContext, id: number): Promise<void> {
  await rm(uploadDir(app, id), { recursive: true, force: true });
  await app.db('file_uploads').where({ id }).delete();
}

/** The mailbox's destination: its IMAP endpoint and (where the platform has one) its DAV endpoint. */
async function destinationOf(app: AppContext, mailboxId: number) {
  const row = await mailboxById(app.db, mailboxId);
  const project = await projectById(app.db, row.project_id);
  const platform = await app.connector(project.dest_platform_id);
  const password = row.dest_password_sealed ? app.box.open(row.dest_password_sealed) : undefined;
  const login = row.dest_login_sealed ? app.box.open(row.dest_login_sealed) : undefined;
  const imap = await platform.imapEndpoint(row.address, password, login);
  const dav = (await platform.davEndpoint?.(row.address, password)) ?? null;
  return { imap, dav };
}

const running = new Map<number, Promise<void>>();

/** Whether an import or dry run of this upload is running in this process. */
export function isRunning(id: number): boolean {
  return running.has(id);
}

/**
 * Starts the dry run or the import of a complete upload in the background; the row carries its
 * progress and, at the end, the plan or the report. A second start while one runs is refused.
 */
export async function startFileRun(app: AppContext, mailboxId: number, id: number, mode: 'check' | 'import'): Promise<UploadView> {
  const row = await rowOf(app, mailboxId, id);
  // 'checking'/'importing' with nothing running here: the process that ran it stopped (a restart); the
  // ledger makes a new run go on where that one was.
  if (running.has(id) || row.state === 'uploading') {
    throw new CutoverError('UPLOAD_STATE', { name: row.name, state: row.state, detail: row.state === 'uploading' ? 'the upload is not complete yet' : 'a run of it is already going on' });
  }
  await update(app, id, { state: mode === 'check' ? 'checking' : 'importing', progress: null, error: null });
  const work = runFile(app, row, mode).finally(() => running.delete(id));
  running.set(id, work);
  return uploadById(app, id);
}

/** Waits for a running dry run or import (tests, and the CLI's serve shutdown). */
export async function settled(id: number): Promise<void> {
  await running.get(id);
}

async function runFile(app: AppContext, row: UploadRow, mode: 'check' | 'import'): Promise<void> {
  try {
    const dest = await destinationOf(app, row.mailbox_id);
    let last = 0;
    const report = await importFiles({
      files: [uploadPath(app, row)], dest: dest.imap, dryRun: mode === 'check',
      ledgerFile: path.join(uploadDir(app, row.id), '.ledger.jsonl'),
      ...(dest.dav && { dav: { endpoint: dest.dav, ledger: mode === 'import' ? dbGroupwareLedger(app.db, row.mailbox_id) : undefined } }),
      log: app.log,
      onProgress: (progress) => {
        if (Date.now() - last < 1000) return;
        last = Date.now();
        void update(app, row.id, { progress: JSON.stringify(progress) }).catch(() => undefined);
      },
    });
    // The report names the file by its place on disk: the admin knows it by its name.
    for (const f of [...report.folders, ...report.collections]) f.file = row.name;
    for (const f of report.files) f.file = row.name;
    await update(app, row.id, {
      state: mode === 'check' ? 'checked' : 'imported',
      [mode === 'check' ? 'plan' : 'report']: JSON.stringify(report),
      progress: JSON.stringify({ copied: report.copied, seen: report.messages + report.skipped, bytes: report.bytes }),
    });
    // The copy step of a file import project waits for imports: it goes on now, not at its next check.
    if (mode === 'import') await app.db('mailboxes').where({ id: row.mailbox_id, step: 'copy-mail', state: 'waiting' }).update({ next_run_at: 0 });
  } catch (err) {
    app.log.error({ err, upload: row.id }, 'file import failed');
    await update(app, row.id, { state: 'failed', error: (err instanceof CutoverError ? err.message : `internal error: ${(err as Error).message}`).slice(0, 2000) });
  }
}
