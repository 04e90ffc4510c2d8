import os from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Db } from '../db/knex.ts';
import { RUNNABLE_STATES } from '../db/repos/mailboxes.ts';
import { CutoverError } from '../errors.ts';

const DEFAULT_LEASE_SECONDS = 20;

function leaseMsFromEnv(value: string | undefined): number {
  if (value === undefined || value === '') return DEFAULT_LEASE_SECONDS * 1_000;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds < 1 || seconds > 3_600) {
    throw new CutoverError('CONFIG_INVALID', { where: ' (environment)', detail: `CUTOVER_LEASE_SECONDS: "${value}" is not a number of seconds between 1 and 3600` });
  }
  return Math.round(seconds * 1_000);
}

/**
 * How long a claim holds without a heartbeat. Short, because a holder renews it every third of
 * it: a worker killed on another host is taken over within one lease. Every worker of a fleet
 * should use the same value (CUTOVER_LEASE_SECONDS, default 20).
 */
export const LEASE_MS = leaseMsFromEnv(process.env.CUTOVER_LEASE_SECONDS);
export const HEARTBEAT_MS = Math.max(250, Math.floor(LEASE_MS / 3));
// Rows leased by other live processes of this host that a claim may read past to reach a dead holder's.
const SAME_HOST_CANDIDATES = 64;

/** The host part of worker ids: CUTOVER_WORKER_ID when set (two workers on one machine that should act as two hosts), else the host name. */
export function workerHost(): string {
  const override = process.env.CUTOVER_WORKER_ID?.trim();
  return override ? override.replace(/:/g, '-') : os.hostname();
}

export function workerId(): string {
  return `${workerHost()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

// A lease taken by a process on this host that no longer exists is free at once: a worker
// killed with SIGKILL should not hold its mailboxes for the whole lease time.
function holderIsDead(lockedBy: string | null): boolean {
  if (!lockedBy) return false;
  const [host, pid] = lockedBy.split(':');
  if (host !== workerHost() || !pid) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

export function isPostgres(db: Db): boolean {
  return /^(pg|postgres)/.test(String(db.client.config.client));
}

/** Claims up to `limit` due mailboxes for this worker; two workers never get the same one. */
export async function claimDue(db: Db, worker: string, limit: number, now: number, projectId?: number): Promise<number[]> {
  return isPostgres(db) ? claimSkipLocked(db, worker, limit, now, projectId) : claimConditional(db, worker, limit, now, projectId);
}

function dueMailboxes(db: Db, now: number, projectId: number | undefined) {
  return db('mailboxes')
    .join('projects', 'projects.id', 'mailboxes.project_id')
    .whereIn('mailboxes.state', RUNNABLE_STATES)
    .andWhere('mailboxes.next_run_at', '<=', now)
    .andWhere('projects.state', 'active')
    .modify((q) => { if (projectId !== undefined) q.andWhere('mailboxes.project_id', projectId); });
}

// PostgreSQL: one statement picks free rows and locks them; rows another worker is claiming at
// the same instant are skipped rather than waited for, so claims never queue behind each other.
async function claimSkipLocked(db: Db, worker: string, limit: number, now: number, projectId?: number): Promise<number[]> {
  const mine = await db('mailboxes').distinct('locked_by').where('locked_by', 'like', `${workerHost()}:%`).andWhere('locked_until', '>=', now);
  const deadHolders = (mine as Array<{ locked_by: string }>).map((r) => r.locked_by).filter(holderIsDead);
  const picked = dueMailboxes(db, now, projectId)
    .select('mailboxes.id')
    .andWhere((q) => {
      q.whereNull('mailboxes.locked_until').orWhere('mailboxes.locked_until', '<', now);
      if (deadHolders.length) q.orWhereIn('mailboxes.locked_by', deadHolders);
    })
    .orderBy('mailboxes.next_run_at')
    .limit(limit)
    .forUpdate('mailboxes')
    .skipLocked();
  const rows: Array<{ id: number; next_run_at: string }> = await db('mailboxes')
    .whereIn('id', picked)
    .update({ locked_by: worker, locked_until: now + LEASE_MS }, ['id', 'next_run_at']);
  return rows.sort((a, b) => Number(a.next_run_at) - Number(b.next_run_at) || a.id - b.id).map((r) => Number(r.id));
}

// SQLite has one writer at a time and no row locks: each row is claimed by a conditional update.
// Free rows come first; after them a few rows leased by other processes of this host, whose holder
// may be dead. This worker's own rows are running here and never candidates.
async function claimConditional(db: Db, worker: string, limit: number, now: number, projectId?: number): Promise<number[]> {
  const candidates = await dueMailboxes(db, now, projectId)
    .select('mailboxes.id', 'mailboxes.locked_by', 'mailboxes.locked_until')
    // Live leases of other hosts are left out here; this host's are looked at (their holder may be dead).
    .andWhere((q) => q.whereNull('mailboxes.locked_until').orWhere('mailboxes.locked_until', '<', now)
      .orWhere((mine) => mine.where('mailboxes.locked_by', 'like', `${workerHost()}:%`).andWhereNot('mailboxes.locked_by', worker)))
    .orderByRaw('CASE WHEN mailboxes.locked_until IS NULL OR mailboxes.locked_until < ? THEN 0 ELSE 1 END', [now])
    .orderBy('mailboxes.next_run_at')
    .limit(limit + SAME_HOST_CANDIDATES);
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

/** Every lease this worker holds, renewed in one update (the worker's heartbeat). */
export async function renewLeases(db: Db, worker: string, now: number): Promise<void> {
  await db('mailboxes').where({ locked_by: worker }).update({ locked_until: now + LEASE_MS });
}

export async function releaseLease(db: Db, id: number, worker: string): Promise<void> {
  await db('mailboxes').where({ id, locked_by: worker }).update({ locked_by: null, locked_until: null });
}
