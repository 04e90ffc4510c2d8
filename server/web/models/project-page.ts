import type { AppContext } from '../../context.ts';
import type { MailboxState } from '../../db/repos/mailboxes.ts';
import { projectById } from '../../db/repos/projects.ts';
import { projectDomains } from '../../db/repos/domains.ts';
import { platformById } from '../../db/repos/platforms.ts';
import { progress, type Progress } from './progress.ts';

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
 * progress from the ledger of those rows only, so 10,000 mailboxes cost what 50 do.
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
    .select('id', 'address', 'state', 'step', 'last_sync_at', 'error_message', 'preflight')
    .orderBy('address').limit(opts.pageSize).offset((page - 1) * opts.pageSize);
  if (filter) query.andWhere({ state: filter });
  const rows: Array<{ id: number; address: string; state: string; step: string; last_sync_at: string | null; error_message: string | null; preflight: string | null }> = await query;

  const ids = rows.map((r) => r.id);
  const copied: Array<{ mailbox_id: number; n: number | string; bytes: number | string | null }> = ids.length
    ? await app.db('ledger').whereIn('mailbox_id', ids).groupBy('mailbox_id').select('mailbox_id').count({ n: '*' }).sum({ bytes: 'size' }) : [];
  const started: Array<{ mailbox_id: number; at: string }> = ids.length
    ? await app.db('events').whereIn('mailbox_id', ids).andWhere({ step: 'copy-mail' }).groupBy('mailbox_id').select('mailbox_id').min({ at: 'at' }) : [];

  return {
    project: { id: project.id, name: project.name, source: source.name, destination: destination.name },
    domains: (await projectDomains(app.db, project.id)).map((d) => d.name),
    counts, total: counts.reduce((n, c) => n + c.n, 0), filter, page, pages, pageSize: opts.pageSize,
    mailboxes: rows.map((r) => {
      const c = copied.find((x) => x.mailbox_id === r.id);
      const total = r.preflight ? (JSON.parse(r.preflight) as { totalMessages?: number }).totalMessages ?? null : null;
      const copying = r.step === 'copy-mail' && !['done', 'failed', 'stopped', 'paused'].includes(r.state);
      return {
        id: r.id, address: r.address, state: r.state, step: r.step, lastSyncAt: r.last_sync_at, error: r.error_message,
        progress: progress(Number(c?.n ?? 0), Number(c?.bytes ?? 0), total, started.find((s) => s.mailbox_id === r.id)?.at ?? null, copying),
      };
    }),
  };
}
