import type { AppContext } from '../context.ts';
import { projectById } from '../db/repos/projects.ts';
import { mailboxTallies, zeroTally } from '../db/repos/tallies.ts';
import { keptMailboxTally } from '../daily/kept-tallies.ts';

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
 * Per-mailbox statistics of a project (Get-MigrationUserStatistics): three queries
 * whatever the number of mailboxes, rather than one report per mailbox.
 */
export async function projectStatistics(app: AppContext, projectId: number): Promise<ProjectStatistics> {
  const project = await projectById(app.db, projectId);
  const rows: Array<{ id: number; address: string; state: string; step: string; attempts: number; error_code: string | null; error_message: string | null; preflight: string | null; sync_passes: number; last_sync_at: string | null; purged_tally: string | null }> =
    await app.db('mailboxes').where({ project_id: project.id }).orderBy('address')
      .select('id', 'address', 'state', 'step', 'attempts', 'error_code', 'error_message', 'preflight', 'sync_passes', 'last_sync_at', 'purged_tally');
  const tallies = await mailboxTallies(app.db, app.db('mailboxes').where({ project_id: project.id }).select('id'));
  return {
    project: { id: project.id, name: project.name, state: project.state },
    mailboxes: rows.map((r) => ({
      id: r.id, address: r.address, state: r.state, step: r.step, attempts: Number(r.attempts),
      error: r.error_code ? { code: r.error_code, message: r.error_message ?? '' } : null,
      totalMessages: r.preflight ? (JSON.parse(r.preflight) as { totalMessages?: number }).totalMessages ?? null : null,
      ...(tallies.get(r.id) ?? keptMailboxTally(r.purged_tally) ?? zeroTally()),
      syncPasses: Number(r.sync_passes), lastSyncAt: r.last_sync_at,
    })),
  };
}
