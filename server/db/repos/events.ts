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

/** One page of a mailbox's timeline, newest first, counted and cut in SQL (a long delta phase writes thousands). */
export async function mailboxEventsPage(db: Db, mailboxId: number, page: number, pageSize: number): Promise<{ rows: EventRow[]; total: number; page: number; pages: number }> {
  const [counted] = await db('events').where({ mailbox_id: mailboxId }).count({ n: '*' });
  const total = Number(counted?.n ?? 0);
  const pages = Math.max(1, Math.ceil(total / pageSize));
  const current = Math.min(Math.max(1, Math.floor(page)), pages);
  const rows = await db<EventRow>('events').where({ mailbox_id: mailboxId }).orderBy('id', 'desc').limit(pageSize).offset((current - 1) * pageSize);
  return { rows, total, page: current, pages };
}

export function mailboxEvents(db: Db, mailboxId: number): Promise<EventRow[]> {
  return db<EventRow>('events').where({ mailbox_id: mailboxId }).orderBy('id');
}
