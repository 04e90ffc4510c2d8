import type { Db } from '../knex.ts';

export interface SyncPointRow { mailbox_id: number; pass: number; step: string; started_at: string; finished_at: string | null; rolled_back_at: string | null }

/** A pass starts: the first start is kept, so a pass resumed after a crash keeps its original time. */
export async function startSyncPoint(db: Db, mailboxId: number, pass: number, step: string): Promise<void> {
  await db('sync_points').insert({ mailbox_id: mailboxId, pass, step, started_at: new Date().toISOString() }).onConflict(['mailbox_id', 'pass']).ignore();
}

export async function finishSyncPoint(db: Db, mailboxId: number, pass: number): Promise<void> {
  await db('sync_points').where({ mailbox_id: mailboxId, pass }).update({ finished_at: new Date().toISOString() });
}

export function syncPointRows(db: Db, mailboxId: number): Promise<SyncPointRow[]> {
  return db<SyncPointRow>('sync_points').where({ mailbox_id: mailboxId }).orderBy('pass');
}
