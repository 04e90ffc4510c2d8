import type { AppContext } from '../../context.ts';
import type { MailboxState } from '../../db/repos/mailboxes.ts';
import { projectOptions, projectWithPlatformNames } from '../../db/repos/projects.ts';
import { projectDomains } from '../../db/repos/domains.ts';
import type { FolderPlanEntry } from '../../mail/folders.ts';
import type { PlanOverride } from '../../workflow/plan-override.ts';
import { copyMail } from '../../workflow/steps/copy-mail.ts';
import { keptMailboxTally } from '../../daily/kept-tallies.ts';
import { excludedFolders, isCopying, plannedTotals, progress, type Progress } from './progress.ts';

export const STATES: MailboxState[] = ['queued', 'waiting', 'retrying', 'needs_admin', 'paused', 'stopped', 'failed', 'done'];

export function isState(value: unknown): value is MailboxState {
  return typeof value === 'string' && (STATES as string[]).includes(value);
}

export interface MailboxLine { id: number; address: string; state: string; step: string; lastSyncAt: string | null; error: string | null; progress: Progress }

type PageRow = { id: number; address: string; state: string; step: string; last_sync_at: string | null; error_message: string | null; preflight: string | null; folder_plan: string | null; folder_plan_override: string | null; purged_tally: string | null };

function pageRows(app: AppContext, projectId: number, filter: MailboxState | null, page: number, pageSize: number): Promise<PageRow[]> {
  const query = app.db('mailboxes').where({ project_id: projectId })
    .select('id', 'address', 'state', 'step', 'last_sync_at', 'error_message', 'preflight', 'folder_plan', 'folder_plan_override', 'purged_tally')
    .orderBy('address').limit(pageSize).offset((page - 1) * pageSize);
  if (filter) query.andWhere({ state: filter });
  return query;
}

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
 * and the start of their first pass, so 10,000 mailboxes cost what 50 do. Queries that do not
 * depend on each other go out together: two round trips instead of eight, which is what a busy
 * database server (a fleet of workers on it) makes a page wait for.
 */
export async function projectPageModel(app: AppContext, projectId: number, opts: { page?: number; state?: MailboxState | null; pageSize: number }): Promise<ProjectPageModel> {
  const filter = opts.state ?? null;
  const requested = Math.max(1, Math.floor(opts.page ?? 1));
  const [named, grouped, firstRows, domains] = await Promise.all([
    projectWithPlatformNames(app.db, projectId),
    app.db('mailboxes').where({ project_id: projectId }).select('state').count({ n: '*' }).groupBy('state') as Promise<Array<{ state: MailboxState; n: number | string }>>,
    pageRows(app, projectId, filter, requested, opts.pageSize),
    projectDomains(app.db, projectId),
  ]);
  const { project, source, destination } = named;
  const counts = STATES.map((state) => ({ state, n: Number(grouped.find((g) => g.state === state)?.n ?? 0) })).filter((c) => c.n > 0);
  const matching = filter ? (counts.find((c) => c.state === filter)?.n ?? 0) : counts.reduce((n, c) => n + c.n, 0);
  const pages = Math.max(1, Math.ceil(matching / opts.pageSize));
  const page = Math.min(requested, pages);
  // A page past the last one (the list shrank, or a hand-made link) shows the last page.
  const rows = page === requested ? firstRows : await pageRows(app, projectId, filter, page, opts.pageSize);
  const projectExcludes = projectOptions(project).excludeFolders;

  const ids = rows.map((r) => r.id);
  const [copied, started] = ids.length ? await Promise.all([
    app.db('ledger').whereIn('mailbox_id', ids).groupBy('mailbox_id').select('mailbox_id').count({ n: '*' }).sum({ bytes: 'size' }) as Promise<Array<{ mailbox_id: number; n: number | string; bytes: number | string | null }>>,
    app.db('sync_points').whereIn('mailbox_id', ids).andWhere({ pass: 1 }).select('mailbox_id', 'started_at as at') as Promise<Array<{ mailbox_id: number; at: string }>>,
  ]) : [[], []];
  // Copies begun before sync points were timed: their first copy-mail event, for the few still copying.
  const untimed = rows.filter((r) => isCopying(r, copyMail.id) && !started.some((s) => s.mailbox_id === r.id)).map((r) => r.id);
  if (untimed.length) {
    const first: Array<{ mailbox_id: number; at: string }> = await app.db('events').whereIn('mailbox_id', untimed).andWhere({ step: copyMail.id }).groupBy('mailbox_id').select('mailbox_id').min({ at: 'at' });
    started.push(...first);
  }

  return {
    project: { id: project.id, name: project.name, source, destination },
    domains: domains.map((d) => d.name),
    counts, total: counts.reduce((n, c) => n + c.n, 0), filter, page, pages, pageSize: opts.pageSize,
    mailboxes: rows.map((r) => {
      // After a retention purge the ledger is gone; the counts kept on the row say what moved.
      const kept = keptMailboxTally(r.purged_tally);
      const c = copied.find((x) => x.mailbox_id === r.id) ?? (kept && { n: kept.copiedMessages, bytes: kept.copiedBytes });
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
