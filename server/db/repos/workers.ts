import type { Db } from '../knex.ts';

export interface WorkerRow { id: string; host: string; pid: number; started_at: number; heartbeat_at: number; stopped_at: number | null }

export interface WorkerView {
  id: string;
  host: string;
  pid: number;
  startedAt: string;
  lastHeartbeat: string;
  /** running: heartbeating; lost: no heartbeat for `staleAfterMs` (killed, frozen or cut off); stopped: ended cleanly. */
  status: 'running' | 'lost' | 'stopped';
  mailboxes: string[];
}

/** The worker's row, written at start and on every heartbeat. */
export async function heartbeatWorker(db: Db, worker: { id: string; host: string; pid: number }, now: number): Promise<void> {
  await db('workers').insert({ ...worker, started_at: now, heartbeat_at: now }).onConflict('id').merge({ heartbeat_at: now, stopped_at: null });
}

export async function markWorkerStopped(db: Db, id: string, now: number): Promise<void> {
  await db('workers').where({ id }).update({ stopped_at: now, heartbeat_at: now });
}

/** Every worker seen within `keepMs`, newest first, with the mailboxes it holds now. */
export async function listWorkers(db: Db, now: number, staleAfterMs: number, keepMs = 24 * 3600_000): Promise<WorkerView[]> {
  const rows = await db<WorkerRow>('workers').where('heartbeat_at', '>=', now - keepMs).orderBy([{ column: 'host' }, { column: 'started_at', order: 'desc' }]);
  const held = rows.length
    ? await db('mailboxes').select('locked_by', 'address').whereIn('locked_by', rows.map((r) => r.id)).andWhere('locked_until', '>=', now).orderBy('address')
    : [];
  return rows.map((r) => ({
    id: r.id, host: r.host, pid: Number(r.pid),
    startedAt: new Date(Number(r.started_at)).toISOString(),
    lastHeartbeat: new Date(Number(r.heartbeat_at)).toISOString(),
    status: r.stopped_at !== null ? 'stopped' : Number(r.heartbeat_at) < now - staleAfterMs ? 'lost' : 'running',
    mailboxes: (held as Array<{ locked_by: string; address: string }>).filter((m) => m.locked_by === r.id).map((m) => m.address),
  }));
}
