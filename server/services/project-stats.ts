import type { AppContext } from '../context.ts';
import { projectById } from '../db/repos/projects.ts';

export interface MailboxStatistics {
  id: number;
  address: string;
  state: string;
  step: string;
  attempts: number;
  error: { code: string; message: string } | null;
  totalMessages: number | null;
  copiedMessages: number;
  copiedBytes: number;
  skippedMessages: number;
  skippedBytes: number;
  /** Messages the destination refused (its words are on the mailbox page). */
  refusedMessages: number;
  syncPasses: number;
  lastSyncAt: string | null;
}

export interface ProjectStatistics { project: { id: number; name: string; state: string }; mailboxes: MailboxStatistics[] }

/**
 * Per-mailbox statistics of a project (Get-MigrationUserStatistics): three grouped queries
 * whatever the number of mailboxes, rather than one report per mailbox.
 */
export async function projectStatistics(app: AppContext, projectId: number): Promise<ProjectStatistics> {
  const project = await projectById(app.db, projectId);
  const ids = app.db('mailboxes').where({ project_id: project.id }).select('id');
  const rows: Array<{ id: number; address: string; state: string; step: string; attempts: number; error_code: string | null; error_message: string | null; preflight: string | null; sync_passes: number; last_sync_at: string | null }> =
    await app.db('mailboxes').where({ project_id: project.id }).orderBy('address')
      .select('id', 'address', 'state', 'step', 'attempts', 'error_code', 'error_message', 'preflight', 'sync_passes', 'last_sync_at');
  const copied: Array<{ mailbox_id: number; n: number | string; bytes: number | string | null }> =
    await app.db('ledger').whereIn('mailbox_id', ids.clone()).groupBy('mailbox_id').select('mailbox_id').count({ n: '*' }).sum({ bytes: 'size' });
  const skipped: Array<{ mailbox_id: number; refused: number | string; refused_bytes: number | string | null; n: number | string; bytes: number | string | null }> =
    await app.db('skips').whereIn('mailbox_id', ids.clone()).groupBy('mailbox_id').select('mailbox_id')
      .count({ n: '*' }).sum({ bytes: 'size' }).select(app.db.raw("sum(case when kind = 'refused' then 1 else 0 end) as refused, sum(case when kind = 'refused' then size else 0 end) as refused_bytes"));
  const copiedBy = new Map(copied.map((c) => [c.mailbox_id, c]));
  const skippedBy = new Map(skipped.map((s) => [s.mailbox_id, s]));
  return {
    project: { id: project.id, name: project.name, state: project.state },
    mailboxes: rows.map((r) => {
      const c = copiedBy.get(r.id);
      const s = skippedBy.get(r.id);
      const refused = Number(s?.refused ?? 0);
      return {
        id: r.id, address: r.address, state: r.state, step: r.step, attempts: Number(r.attempts),
        error: r.error_code ? { code: r.error_code, message: r.error_message ?? '' } : null,
        totalMessages: r.preflight ? (JSON.parse(r.preflight) as { totalMessages?: number }).totalMessages ?? null : null,
        copiedMessages: Number(c?.n ?? 0), copiedBytes: Number(c?.bytes ?? 0),
        // Skips are what the selection left out (too big, excluded…); refusals are counted apart.
        skippedMessages: Number(s?.n ?? 0) - refused, skippedBytes: Number(s?.bytes ?? 0) - Number(s?.refused_bytes ?? 0),
        refusedMessages: refused,
        syncPasses: Number(r.sync_passes), lastSyncAt: r.last_sync_at,
      };
    }),
  };
}
