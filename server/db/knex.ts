import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { ensurePrivateFile, narrowMode } from '../paths.ts';
import { migrations } from './migrations/index.ts';

export type Db = Knex;

const SQLITE_COMPANIONS = ['-wal', '-shm', '-journal'];

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
      // WAL lets the CLI read status while a worker writes; busy_timeout rides over short writer locks.
      afterCreate(conn: { run(sql: string, cb: (err: Error | null) => void): void }, done: (err: Error | null, conn: unknown) => void) {
        conn.run('PRAGMA journal_mode = WAL', (err) => {
          if (err) return done(err, conn);
          conn.run('PRAGMA busy_timeout = 10000', (err2) => {
            if (err2) return done(err2, conn);
            conn.run('PRAGMA foreign_keys = ON', (err3) => done(err3, conn));
          });
        });
      },
    },
  });
}

export async function migrate(db: Db): Promise<void> {
  await db.migrate.latest({ migrationSource: migrations });
}
