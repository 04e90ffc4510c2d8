import { startPostgres, type PostgresInstance } from '../../server/devservers/postgres.ts';

/**
 * Which database the db-sensitive tests run on: SQLite by default, a private PostgreSQL cluster
 * (one per test file, a fresh database per call) when CUTOVER_TEST_DATABASE=postgres.
 * test/run.mjs runs its list of db-sensitive files a second time that way.
 */
export const testDatabase: 'sqlite' | 'postgres' = process.env.CUTOVER_TEST_DATABASE === 'postgres' ? 'postgres' : 'sqlite';

let cluster: Promise<PostgresInstance> | undefined;

/** The cluster of this test file, started on first use and stopped by PID when the file's process ends. */
export function sharedPostgres(): Promise<PostgresInstance> {
  if (!cluster) {
    cluster = startPostgres();
    let stopped = false;
    // node:test ends a file's process once its loop is empty; the cluster (unref'd) goes with it.
    process.on('beforeExit', () => {
      if (stopped) return;
      stopped = true;
      void cluster!.then((pg) => pg.stop(), () => undefined);
    });
    process.once('exit', () => { if (!stopped) void cluster!.then((pg) => { try { process.kill(pg.pid, 'SIGKILL'); } catch { /* gone */ } }); });
  }
  return cluster;
}

/** A fresh, empty PostgreSQL database of this file's cluster. */
export async function freshPostgresUrl(): Promise<string> {
  return (await sharedPostgres()).createDatabase();
}

/** Environment for openContext/the CLI: nothing on SQLite (the data dir holds the file), DATABASE_URL of a fresh database on PostgreSQL. */
export async function testDatabaseEnv(): Promise<Record<string, string>> {
  return testDatabase === 'postgres' ? { DATABASE_URL: await freshPostgresUrl() } : {};
}
