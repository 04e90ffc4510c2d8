import os from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Db } from '../db/knex.ts';
import { RUNNABLE_STATES } from '../db/repos/mailboxes.ts';

export const LEASE_MS = 120_000;
const CANDIDATES = 200;

export function workerId(): string {
  return `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

// A lease taken by a process on this host that no longer exists is free at once: a worker
// killed with SIGKILL should not hold its mailboxes for the whole lease time.
function holderIsDead(lockedBy: string | null): boolean {
  if (!lockedBy) return false;
  const [host, pid] = lockedBy.split(':');
  if (host !== os.hostname() || !pid) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Claims up to `limit` due mailboxes for this worker; a row is claimed by a conditional update, so two workers never get the same one. */
export async function claimDue(db: Db, worker: string, limit: number, now: number, projectId?: number): Promise<number[]> {
  const candidates = await db('mailboxes')
    .select('mailboxes.id', 'mailboxes.locked_by', 'mailboxes.locked_until')
    .join('projects', 'projects.id', 'mailboxes.project_id')
    .whereIn('mailboxes.state', RUNNABLE_STATES)
    .andWhere('mailboxes.next_run_at', '<=', now)
    .andWhere('projects.state', 'active')
    // Live leases of other hosts are left out here; this host's are looked at (their holder may be dead).
    .andWhere((q) => q.whereNull('mailboxes.locked_until').orWhere('mailboxes.locked_until', '<', now).orWhere('mailboxes.locked_by', 'like', `${os.hostname()}:%`))
    .modify((q) => { if (projectId !== undefined) q.andWhere('mailboxes.project_id', projectId); })
    .orderBy('mailboxes.next_run_at')
    .limit(CANDIDATES);
  const claimed: number[] = [];
  for (const row of candidates as Array<{ id: number; locked_by: string | null; locked_until: number | null }>) {
    if (claimed.length >= limit) break;
    const free = row.locked_until === null || Number(row.locked_until) < now || holderIsDead(row.locked_by);
    if (!free) continue;
    // The row must still be exactly as read: a holder that renewed meanwhile keeps its lease.
    const updated = await db('mailboxes')
      .where({ id: row.id })
      .andWhere((q) => (row.locked_by === null ? q.whereNull('locked_by') : q.where('locked_by', row.locked_by)))
      .andWhere((q) => (row.locked_until === null ? q.whereNull('locked_until') : q.where('locked_until', row.locked_until)))
      .update({ locked_by: worker, locked_until: now + LEASE_MS });
    if (updated === 1) claimed.push(row.id);
  }
  return claimed;
}

export async function renewLease(db: Db, id: number, worker: string): Promise<void> {
  await db('mailboxes').where({ id, locked_by: worker }).update({ locked_until: Date.now() + LEASE_MS });
}

export async function releaseLease(db: Db, id: number, worker: string): Promise<void> {
  await db('mailboxes').where({ id, locked_by: worker }).update({ locked_by: null, locked_until: null });
}
