import type { Db } from '../knex.ts';

export interface AuditInput { actor: string; action: string; target?: string | null; detail?: string | null }
export interface AuditRow { id: number; at: string; actor: string; action: string; target: string | null; detail: string | null }

/** One line of the audit trail. Never pass a secret in `detail`: the trail is shown to every admin. */
export async function recordAudit(db: Db, entry: AuditInput): Promise<void> {
  await db('audit').insert({ at: new Date().toISOString(), actor: entry.actor, action: entry.action, target: entry.target ?? null, detail: entry.detail ?? null });
}

export function recentAudit(db: Db, limit = 200): Promise<AuditRow[]> {
  return db<AuditRow>('audit').orderBy('id', 'desc').limit(limit);
}
