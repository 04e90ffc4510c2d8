import { spawnSync } from 'node:child_process';
import { startPostgres, type PostgresInstance } from '../../server/devservers/postgres.ts';

/**
 * Which database the db-sensitive tests run on: SQLite by default, a private PostgreSQL cluster
 * (one per test file, a fresh database per call) when CUTOVER_TEST_DATABASE=postgres.
 * test/run.mjs runs its list of db-sensitive files a second time that way.
 */
export const testDatabase: 'sqlite' | 'postgres' = process.env.CUTOVER_TEST_DATABASE === 'postgres' ? 'postgres' : 'sqlite';

let cluster: Promise<PostgresInstance> | undefined;
let started: PostgresInstance | undefined;

/** The cluster of this test file, started on first use and stopped by PID when the file's process ends. */
export function sharedPostgres(): Promise<PostgresInstance> {
  if (!cluster) {
    cluster = startPostgres().then((pg) => (started = pg));
    // node:test may end a file's process right after its last test, before an async stop is through:
    // the exit handler waits (synchronously, bounded) for the postmaster it signalled to be gone or a
    // zombie (nobody reaps it any more), then removes the directory.
    process.once('exit', () => {
      if (!started) return;
      try { process.kill(started.pid, 'SIGQUIT'); } catch { /* already gone */ }
      spawnSync('sh', ['-c', `for i in $(seq 200); do case "$(ps -o stat= -p ${started.pid})" in ''|Z*) break;; esac; sleep 0.05; done; rm -rf '${started.dir}'`], { stdio: 'ignore' });
    });
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
