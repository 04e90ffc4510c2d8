import type { Db } from '../db/knex.ts';
import { CutoverError } from '../errors.ts';
import type { HostGate } from '../mail/host-slots.ts';
import { isPostgres, LEASE_MS } from './lease.ts';

/** The connection limit of each mail host this process has seen an endpoint for (host:port → limit, null: none). */
const limits = new Map<string, number | null>();
const key = (host: string, port: number) => `${host.toLowerCase()}:${port}`;

export function noteHostLimit(endpoint: { host: string; port: number }, limit: number | null): void {
  limits.set(key(endpoint.host, endpoint.port), limit);
}

const POLL_MS = 100;
export const HOST_WAIT_MS = 120_000;

export interface DbHostGate extends HostGate {
  /** Extends this holder's slots (the worker's heartbeat) and drops slots whose holder stopped renewing. */
  renew(now: number): Promise<void>;
  /** Frees whatever this holder still has (the worker is stopping). */
  close(): Promise<void>;
}

/**
 * Slots are rows of `host_slots`; a connection may open when fewer than the limit are live for its
 * host. A slot expires with its holder's lease, so a killed worker's connections (gone with the
 * process) stop counting within one lease.
 */
export function dbHostGate(db: Db, holder: string, waitMs = HOST_WAIT_MS): DbHostGate {
  const take = async (host: string, limit: number, now: number): Promise<number | undefined> => {
    const insert = (q: Pick<Db, 'raw'>) => q.raw(
      'insert into host_slots (host, holder, expires_at) select ?, ?, ? where (select count(*) from host_slots where host = ? and expires_at >= ?) < ? returning id',
      [host, holder, now + LEASE_MS, host, now, limit],
    );
    // PostgreSQL: concurrent inserts would each count the others out; the advisory lock of the host makes them take turns.
    const result: unknown = isPostgres(db)
      ? await db.transaction(async (trx) => { await trx.raw('select pg_advisory_xact_lock(hashtext(?))', [host]); return insert(trx); })
      : await insert(db);
    const rows = (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as Array<{ id: number | string }>;
    return rows[0] ? Number(rows[0].id) : undefined;
  };
  return {
    async acquire(hostName, port, waiting) {
      const host = key(hostName, port);
      const limit = limits.get(host);
      if (!limit) return async () => undefined;
      const deadline = Date.now() + waitMs;
      for (;;) {
        const id = await take(host, limit, Date.now());
        if (id !== undefined) return async () => { await db('host_slots').where({ id }).delete(); };
        if (Date.now() >= deadline) throw new CutoverError('HOST_BUSY', { host, seconds: Math.round(waitMs / 1000), limit }, { retryable: true });
        await waiting?.();
        await new Promise((r) => setTimeout(r, POLL_MS + Math.random() * POLL_MS));
      }
    },
    async renew(now) {
      await db('host_slots').where({ holder }).update({ expires_at: now + LEASE_MS });
      await db('host_slots').where('expires_at', '<', now - LEASE_MS).delete();
    },
    async close() {
      await db('host_slots').where({ holder }).delete();
    },
  };
}
