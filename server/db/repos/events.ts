import type { Db } from '../knex.ts';

export interface EventInput {
  projectId: number;
  mailboxId?: number | null;
  domainId?: number | null;
  step?: string | null;
  outcome: string;
  message?: string;
  actor: string;
}

export interface EventRow { id: number; project_id: number; mailbox_id: number | null; domain_id: number | null; step: string | null; outcome: string; message: string | null; actor: string; at: string }

export async function recordEvent(db: Db, e: EventInput): Promise<void> {
  await db('events').insert({
    project_id: e.projectId, mailbox_id: e.mailboxId ?? null, domain_id: e.domainId ?? null, step: e.step ?? null,
    outcome: e.outcome, message: e.message ?? null, actor: e.actor, at: new Date().toISOString(),
  });
}

export function mailboxEvents(db: Db, mailboxId: number): Promise<EventRow[]> {
  return db<EventRow>('events').where({ mailbox_id: mailboxId }).orderBy('id');
}
