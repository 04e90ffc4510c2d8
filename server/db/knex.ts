import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { ensurePrivateFile, narrowMode } from '../paths.ts';
import { migrations } from './migrations/index.ts';

export type Db = Knex;

const SQLITE_COMPANIONS = ['-wal', '-shm', '-journal'];

const SQLITE_PRAGMAS = [
  // WAL lets the CLI and the panel read while a worker writes.
  'PRAGMA journal_mode = WAL',
  // In WAL mode a commit then waits for no fsync (checkpoints still sync): the database cannot be
  // corrupted, and only a power loss (not a killed process) can undo the last commits, which the
  // idempotent steps and the copy's resume against the destination redo. Every write of a worker
  // waited for one before, and so did the panel's writes behind it (fleet bench: page p95).
  'PRAGMA synchronous = NORMAL',
  // Rides over short writer locks.
  'PRAGMA busy_timeout = 10000',
  'PRAGMA foreign_keys = ON',
];

export function connect(dataDir: string, databaseUrl?: string): Db {
  if (databaseUrl) return knexFactory({ client: 'pg', connection: databaseUrl, pool: { min: 0, max: 10 } });
  const filename = path.join(dataDir, 'cutover.sqlite');
  // SQLite creates files 0644 (less the umask) and gives -wal/-shm the database file's mode: an
  // existing 0600 database keeps all three private, and modes left wider by an older install are narrowed.
  ensurePrivateFile(filename);
  for (const companion of SQLITE_COMPANIONS) narrowMode(filename + companion, 0o600);
  return knexFactory({
    client: 'sqlite3',
    connection: { filename },
    useNullAsDefault: true,
    pool: {
      min: 1,
      max: 1,
      afterCreate(conn: { run(sql: string, cb: (err: Error | null) => void): void }, done: (err: Error | null, conn: unknown) => void) {
        const pragmas = [...SQLITE_PRAGMAS];
        const next = (err: Error | null): void => (err || pragmas.length === 0 ? done(err, conn) : conn.run(pragmas.shift()!, next));
        next(null);
      },
    },
  });
}

export async function migrate(db: Db): Promise<void> {
  await db.migrate.latest({ migrationSource: migrations });
}
