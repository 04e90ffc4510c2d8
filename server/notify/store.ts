import { randomBytes } from 'node:crypto';
import type { Db } from '../db/knex.ts';

export type NotificationKind = 'project-started' | 'project-completed' | 'project-failed' | 'mailbox-needs-admin' | 'domain-needs-admin';
export type NotificationStatus = 'pending' | 'sent' | 'abandoned' | 'skipped';

/** The two kinds about admins being needed go out as one digest per project. */
export const NEEDS_ADMIN_KINDS: NotificationKind[] = ['mailbox-needs-admin', 'domain-needs-admin'];

export interface Detected {
  key: string;
  kind: NotificationKind;
  projectId: number;
  mailboxId?: number;
  domainId?: number;
  step?: string;
  /** Data for the mail (addresses, instructions, errors), stored as JSON: the words are chosen when the mail is written. */
  detail: Record<string, unknown>;
}

export interface NotificationRow {
  id: number; key: string; kind: NotificationKind; project_id: number; mailbox_id: number | null; domain_id: number | null; step: string | null;
  recipients: string; detail: string | null; status: NotificationStatus; attempts: number; next_attempt_at: number | string;
  claimed_by: string | null; claimed_until: number | string | null; last_error: string | null; created_at: string; sent_at: string | null;
}

const CLAIM_MS = 5 * 60_000;

/** Records a detection once: a key already there (seen by this or another worker) inserts nothing. */
export async function recordOnce(db: Db, found: Detected, recipients: string[], status: 'pending' | 'skipped', reason?: string): Promise<boolean> {
  const inserted = await db('notifications').insert({
    key: found.key, kind: found.kind, project_id: found.projectId, mailbox_id: found.mailboxId ?? null, domain_id: found.domainId ?? null, step: found.step ?? null,
    recipients: JSON.stringify(recipients), detail: JSON.stringify(found.detail), status, attempts: 0, next_attempt_at: 0,
    last_error: reason ?? null, created_at: new Date().toISOString(),
  }).onConflict('key').ignore().returning('id');
  return inserted.length > 0;
}

export async function existingKeys(db: Db, keys: string[]): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const rows: Array<{ key: string }> = await db('notifications').whereIn('key', keys).select('key');
  return new Set(rows.map((r) => r.key));
}

/** Takes up to `limit` due rows for this sender; the conditional update keeps another worker's claim intact. */
export async function claimDue(db: Db, now: number, limit = 50): Promise<NotificationRow[]> {
  const claimer = randomBytes(8).toString('hex');
  const due = db('notifications').where({ status: 'pending' }).andWhere('next_attempt_at', '<=', now)
    .andWhere((q) => q.whereNull('claimed_until').orWhere('claimed_until', '<', now));
  const ids: number[] = (await due.clone().select('id').orderBy('id').limit(limit)).map((r: { id: number }) => r.id);
  if (ids.length === 0) return [];
  await due.clone().whereIn('id', ids).update({ claimed_by: claimer, claimed_until: now + CLAIM_MS });
  return db<NotificationRow>('notifications').where({ claimed_by: claimer, status: 'pending' }).orderBy('id');
}

export async function markSent(db: Db, ids: number[]): Promise<void> {
  await db('notifications').whereIn('id', ids).update({ status: 'sent', sent_at: new Date().toISOString(), claimed_by: null, claimed_until: null, last_error: null });
}

/** A failed send: back to pending at `retryAt`, or abandoned (kept, with its last error) when there is no retry left. */
export async function markFailed(db: Db, rows: NotificationRow[], error: string, retryAt: (attempts: number) => number | null): Promise<void> {
  for (const row of rows) {
    const attempts = row.attempts + 1;
    const at = retryAt(attempts);
    await db('notifications').where({ id: row.id }).update({
      status: at === null ? 'abandoned' : 'pending', attempts, next_attempt_at: at ?? 0, last_error: error, claimed_by: null, claimed_until: null,
    });
  }
}

/** Puts rows back until `at` without counting an attempt (a digest waiting for its window). */
export async function defer(db: Db, ids: number[], at: number): Promise<void> {
  await db('notifications').whereIn('id', ids).update({ next_attempt_at: at, claimed_by: null, claimed_until: null });
}

/** When this project's last needs-an-admin digest went out, in ms since the epoch (0: never). */
export async function lastDigestSentAt(db: Db, projectId: number): Promise<number> {
  const [row] = await db('notifications').where({ project_id: projectId, status: 'sent' }).whereIn('kind', NEEDS_ADMIN_KINDS).max({ at: 'sent_at' });
  const at = (row as { at?: string | null } | undefined)?.at;
  return at ? Date.parse(at) : 0;
}
