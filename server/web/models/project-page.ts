import type { AppContext } from '../../context.ts';
import type { MailboxState } from '../../db/repos/mailboxes.ts';
import { projectById, projectOptions } from '../../db/repos/projects.ts';
import { projectDomains } from '../../db/repos/domains.ts';
import { platformById } from '../../db/repos/platforms.ts';
import type { FolderPlanEntry } from '../../mail/folders.ts';
import type { PlanOverride } from '../../workflow/plan-override.ts';
import { copyMail } from '../../workflow/steps/copy-mail.ts';
import { excludedFolders, isCopying, plannedTotals, progress, type Progress } from './progress.ts';

export const STATES: MailboxState[] = ['queued', 'waiting', 'retrying', 'needs_admin', 'paused', 'stopped', 'failed', 'done'];

export function isState(value: unknown): value is MailboxState {
  return typeof value === 'string' && (STATES as string[]).includes(value);
}

export interface MailboxLine { id: number; address: string; state: string; step: string; lastSyncAt: string | null; error: string | null; progress: Progress }

export interface ProjectPageModel {
  project: { id: number; name: string; source: string; destination: string };
  /** The project's domains, each with its DNS page. */
  domains: string[];
  counts: Array<{ state: MailboxState; n: number }>;
  total: number;
  filter: MailboxState | null;
  page: number;
  pages: number;
  pageSize: number;
  mailboxes: MailboxLine[];
}

/**
 * One page of a project's mailboxes. Everything is bounded by the page size: counts come from
 * one GROUP BY, the rows from LIMIT/OFFSET on (project_id, state, address), and the copy
 * progress from the ledger of those rows only (read from the (mailbox_id, pass, size) index alone)
 * and the start of their first pass, so 10,000 mailboxes cost what 50 do.
 */
export async function projectPageModel(app: AppContext, projectId: number, opts: { page?: number; state?: MailboxState | null; pageSize: number }): Promise<ProjectPageModel> {
  const project = await projectById(app.db, projectId);
  const [source, destination] = await Promise.all([platformById(app.db, project.source_platform_id), platformById(app.db, project.dest_platform_id)]);
  const grouped: Array<{ state: MailboxState; n: number | string }> = await app.db('mailboxes').where({ project_id: project.id }).select('state').count({ n: '*' }).groupBy('state');
  const counts = STATES.map((state) => ({ state, n: Number(grouped.find((g) => g.state === state)?.n ?? 0) })).filter((c) => c.n > 0);
  const filter = opts.state ?? null;
  const matching = filter ? (counts.find((c) => c.state === filter)?.n ?? 0) : counts.reduce((n, c) => n + c.n, 0);
  const pages = Math.max(1, Math.ceil(matching / opts.pageSize));
  const page = Math.min(Math.max(1, Math.floor(opts.page ?? 1)), pages);

  const query = app.db('mailboxes').where({ project_id: project.id })
    .select('id', 'address', 'state', 'step', 'last_sync_at', 'error_message', 'preflight', 'folder_plan', 'folder_plan_override')
    .orderBy('address').limit(opts.pageSize).offset((page - 1) * opts.pageSize);
  if (filter) query.andWhere({ state: filter });
  type Row = { id: number; address: string; state: string; step: string; last_sync_at: string | null; error_message: string | null; preflight: string | null; folder_plan: string | null; folder_plan_override: string | null };
  const rows: Row[] = await query;
  const projectExcludes = projectOptions(project).excludeFolders;

  const ids = rows.map((r) => r.id);
  const copied: Array<{ mailbox_id: number; n: number | string; bytes: number | string | null }> = ids.length
    ? await app.db('ledger').whereIn('mailbox_id', ids).groupBy('mailbox_id').select('mailbox_id').count({ n: '*' }).sum({ bytes: 'size' }) : [];
  const started: Array<{ mailbox_id: number; at: string }> = ids.length
    ? await app.db('sync_points').whereIn('mailbox_id', ids).andWhere({ pass: 1 }).select('mailbox_id', 'started_at as at') : [];
  // Copies begun before sync points were timed: their first copy-mail event, for the few still copying.
  const untimed = rows.filter((r) => isCopying(r, copyMail.id) && !started.some((s) => s.mailbox_id === r.id)).map((r) => r.id);
  if (untimed.length) {
    const first: Array<{ mailbox_id: number; at: string }> = await app.db('events').whereIn('mailbox_id', untimed).andWhere({ step: copyMail.id }).groupBy('mailbox_id').select('mailbox_id').min({ at: 'at' });
    started.push(...first);
  }

  return {
    project: { id: project.id, name: project.name, source: source.name, destination: destination.name },
    domains: (await projectDomains(app.db, project.id)).map((d) => d.name),
    counts, total: counts.reduce((n, c) => n + c.n, 0), filter, page, pages, pageSize: opts.pageSize,
    mailboxes: rows.map((r) => {
      const c = copied.find((x) => x.mailbox_id === r.id);
      const plan: FolderPlanEntry[] | null = r.folder_plan ? JSON.parse(r.folder_plan) : null;
      const override: PlanOverride = r.folder_plan_override ? JSON.parse(r.folder_plan_override) : {};
      const totals = plannedTotals(r.preflight ? JSON.parse(r.preflight) : null, excludedFolders(plan, override, projectExcludes));
      return {
        id: r.id, address: r.address, state: r.state, step: r.step, lastSyncAt: r.last_sync_at, error: r.error_message,
        progress: progress({
          copied: Number(c?.n ?? 0), copiedBytes: Number(c?.bytes ?? 0), total: totals.messages, totalBytes: totals.bytes,
          copyStartedAt: started.find((s) => s.mailbox_id === r.id)?.at ?? null, copying: isCopying(r, copyMail.id),
        }),
      };
    }),
  };
}
