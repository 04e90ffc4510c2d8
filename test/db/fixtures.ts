import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect, migrate, type Db } from '../../server/db/knex.ts';
import { testDatabaseEnv } from '../support/database.ts';

export interface TempDb {
  db: Db;
  dir: string;
  /** Set on PostgreSQL (CUTOVER_TEST_DATABASE=postgres). */
  url?: string;
  /** Another handle on the same database, as a second process would have. */
  connectAgain(): Db;
  close(): Promise<void>;
}

/** A migrated database in a fresh directory (SQLite), or a fresh database of the file's PostgreSQL cluster; removed on close. */
export async function tempDb(): Promise<TempDb> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cutover-db-'));
  const url = (await testDatabaseEnv()).DATABASE_URL;
  const db = connect(dir, url);
  await migrate(db);
  return {
    db, dir, url,
    connectAgain: () => connect(dir, url),
    async close() {
      await db.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let seq = 0;

/** The minimal platform → project → domain chain a mailbox row (and the ledger's foreign key) needs. */
export async function insertProject(db: Db, opts: { state?: string } = {}): Promise<{ projectId: number; domainId: number }> {
  const n = ++seq;
  const now = new Date().toISOString();
  const [src] = await db('platforms').insert({ name: `src-${n}`, plugin: 'postfixadmin', config_sealed: 'x', created_at: now }).returning('id');
  const [dst] = await db('platforms').insert({ name: `dst-${n}`, plugin: 'postfixadmin', config_sealed: 'x', created_at: now }).returning('id');
  const [project] = await db('projects').insert({
    name: `project-${n}`, source_platform_id: idOf(src), dest_platform_id: idOf(dst), options: '{}', state: opts.state ?? 'active', created_at: now,
  }).returning('id');
  const [domain] = await db('domains').insert({ project_id: idOf(project), name: `d${n}.example.test` }).returning('id');
  return { projectId: idOf(project), domainId: idOf(domain) };
}

export async function insertMailbox(db: Db, where: { projectId: number; domainId: number }, address: string, patch: Record<string, unknown> = {}): Promise<number> {
  const now = new Date().toISOString();
  const [row] = await db('mailboxes').insert({
    project_id: where.projectId, domain_id: where.domainId, address, state: 'queued', step: 'copy-mail', next_run_at: 0, created_at: now, updated_at: now, ...patch,
  }).returning('id');
  return idOf(row);
}

function idOf(row: unknown): number {
  return typeof row === 'object' && row !== null ? Number((row as { id: number }).id) : Number(row);
}
