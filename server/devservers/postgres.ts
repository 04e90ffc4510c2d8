import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import knexFactory from 'knex';
import { freePort } from './ports.ts';

const BIN = process.env.CUTOVER_PG_BIN ?? '/usr/lib/postgresql/15/bin';
const SUPERUSER = 'cutover';
const UNPRIVILEGED = { uid: 65534, gid: 65534 }; // nobody:nogroup; initdb and postgres refuse to run as root
const START_TIMEOUT_MS = 30_000;
// The readiness probe fails by design until the server listens; knex would log every attempt.
const QUIET = { warn: () => undefined, error: () => undefined, debug: () => undefined, deprecate: () => undefined };

export interface PostgresInstance {
  host: string;
  port: number;
  pid: number;
  dir: string;
  /** postgres://cutover@127.0.0.1:port/<database> (trust authentication, loopback only). */
  url(database?: string): string;
  /** A new, empty database; its URL. */
  createDatabase(name?: string): Promise<string>;
  stop(): Promise<void>;
}

const asRoot = process.getuid?.() === 0;

// As root, the server runs as nobody in a directory it owns; setpriv execs, so the child's pid is the postmaster's.
function command(bin: string, args: string[]): [string, string[]] {
  if (!asRoot) return [join(BIN, bin), args];
  return ['setpriv', [`--reuid=${UNPRIVILEGED.uid}`, `--regid=${UNPRIVILEGED.gid}`, '--clear-groups', join(BIN, bin), ...args]];
}

function isAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (err) { return (err as NodeJS.ErrnoException).code === 'EPERM'; }
}

let sequence = 0;

/** A private PostgreSQL cluster: initdb in a temp directory, 127.0.0.1 on a free port, socket in the directory. */
export async function startPostgres(): Promise<PostgresInstance> {
  const dir = mkdtempSync(join(tmpdir(), 'cutover-pg-'));
  const data = join(dir, 'data');
  if (asRoot) chownSync(dir, UNPRIVILEGED.uid, UNPRIVILEGED.gid);
  const [initCmd, initArgs] = command('initdb', ['-D', data, '-U', SUPERUSER, '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  const init = spawnSync(initCmd, initArgs, { encoding: 'utf8', cwd: dir });
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed (${init.status ?? init.signal}): ${init.stderr || init.error}`);
  }
  // A throwaway cluster: durability is not what the tests measure.
  writeFileSync(join(data, 'postgresql.auto.conf'), [
    'fsync = off', 'synchronous_commit = off', 'full_page_writes = off', 'max_connections = 300',
    'shared_buffers = 32MB', "listen_addresses = '127.0.0.1'", `unix_socket_directories = '${dir}'`, 'log_min_messages = warning',
  ].join('\n') + '\n');
  if (asRoot) chownSync(join(data, 'postgresql.auto.conf'), UNPRIVILEGED.uid, UNPRIVILEGED.gid);

  let child: ChildProcess | undefined;
  let port = 0;
  let log = '';
  for (let attempt = 1; attempt <= 3 && !child; attempt++) {
    port = await freePort();
    const [cmd, args] = command('postgres', ['-D', data, '-p', String(port)]);
    const candidate = spawn(cmd, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    candidate.stderr!.on('data', (d: Buffer) => { log = (log + d.toString('utf8')).slice(-8_000); });
    candidate.unref();
    (candidate.stderr as unknown as { unref?: () => void }).unref?.();
    if (await ready(port, candidate)) child = candidate;
    else if (!log.includes('Address already in use') || attempt === 3) {
      if (candidate.exitCode === null && candidate.pid) candidate.kill('SIGQUIT');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`postgres did not start on 127.0.0.1:${port}:\n${log}`);
    }
  }
  const pid = child!.pid!;
  const url = (database = 'postgres') => `postgres://${SUPERUSER}@127.0.0.1:${port}/${database}`;
  let stopping: Promise<void> | undefined;
  const stop = async () => {
    // SIGINT is the "fast" shutdown: sessions are ended, nothing waits for clients to leave.
    if (isAlive(pid)) process.kill(pid, 'SIGINT');
    const deadline = Date.now() + 10_000;
    while (child!.exitCode === null && child!.signalCode === null && Date.now() < deadline) await sleep(50);
    if (child!.exitCode === null && child!.signalCode === null) { process.kill(pid, 'SIGKILL'); await sleep(100); }
    rmSync(dir, { recursive: true, force: true });
  };
  return {
    host: '127.0.0.1', port, pid, dir, url,
    async createDatabase(name = `cutover_${process.pid}_${++sequence}`) {
      const admin = knexFactory({ client: 'pg', connection: url(), pool: { min: 0, max: 1 } });
      try { await admin.raw(`CREATE DATABASE "${name.replace(/"/g, '')}"`); } finally { await admin.destroy(); }
      return url(name);
    },
    stop: () => (stopping ??= stop()),
  };
}

async function ready(port: number, child: ChildProcess): Promise<boolean> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    const probe = knexFactory({ client: 'pg', connection: { host: '127.0.0.1', port, user: SUPERUSER, database: 'postgres' }, pool: { min: 0, max: 1 }, log: QUIET });
    try {
      await probe.raw('select 1');
      return true;
    } catch {
      await sleep(100);
    } finally {
      await probe.destroy();
    }
  }
  return false;
}
