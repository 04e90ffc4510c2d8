import type { Db } from '../knex.ts';
import { CutoverError } from '../../errors.ts';

export type MailboxState = 'queued' | 'waiting' | 'retrying' | 'needs_admin' | 'paused' | 'stopped' | 'failed' | 'done';

/** States the runner may pick up once next_run_at has passed. */
export const RUNNABLE_STATES: MailboxState[] = ['queued', 'waiting', 'retrying'];

export interface MailboxRow {
  id: number;
  project_id: number;
  domain_id: number;
  address: string;
  temp_address: string | null;
  state: MailboxState;
  step: string;
  attempts: number;
  next_run_at: number;
  error_code: string | null;
  error_message: string | null;
  manual_instructions: string | null;
  locked_by: string | null;
  locked_until: number | null;
  source_password_sealed: string | null;
  dest_password_sealed: string | null;
  /** The user names the servers know the account by, when not the address (sealed; null: the address). */
  source_login_sealed: string | null;
  dest_login_sealed: string | null;
  dest_password_generated: number | boolean;
  dest_password_reported: number | boolean;
  dest_create_intent: number | boolean;
  preflight: string | null;
  folder_plan: string | null;
  verify_result: string | null;
  sync_passes: number;
  last_sync_at: string | null;
  created_at: string;
  updated_at: string;
}

export type MailboxPatch = Partial<Omit<MailboxRow, 'id' | 'project_id' | 'domain_id' | 'address' | 'created_at'>>;

export async function mailboxById(db: Db, id: number): Promise<MailboxRow> {
  const row = await db<MailboxRow>('mailboxes').where({ id }).first();
  if (!row) throw new CutoverError('MAILBOX_UNKNOWN', { ref: `#${id}` });
  return row;
}

/** A mailbox is named by its id or its address (unique within a project; the newest project wins otherwise). */
export async function findMailbox(db: Db, ref: string): Promise<MailboxRow> {
  const query = db<MailboxRow>('mailboxes');
  const row = /^\d+$/.test(ref) ? await query.where({ id: Number(ref) }).first() : await query.where({ address: ref.toLowerCase() }).orderBy('id', 'desc').first();
  if (!row) throw new CutoverError('MAILBOX_UNKNOWN', { ref });
  return row;
}

export async function updateMailbox(db: Db, id: number, patch: MailboxPatch): Promise<void> {
  await db('mailboxes').where({ id }).update({ ...patch, updated_at: new Date().toISOString() });
}

export function projectMailboxes(db: Db, projectId: number): Promise<MailboxRow[]> {
  return db<MailboxRow>('mailboxes').where({ project_id: projectId }).orderBy('address');
}
