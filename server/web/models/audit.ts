import type { Db } from '../../db/knex.ts';

/** One line of the audit page: an audit row (logins, admins, tokens) or a project event (every mailbox action and step). */
export interface AuditLine {
  source: 'audit' | 'event';
  at: string;
  actor: string;
  what: string;
  step: string | null;
  target: string | null;
  detail: string | null;
  /** The page the line is about (a mailbox or a project), relative to the panel's mount point. */
  link: string | null;
}

export interface AuditPageModel { lines: AuditLine[]; page: number; pages: number; total: number }

type Merged = { source: 'audit' | 'event'; id: number; at: string; actor: string; what: string; target: string | null; detail: string | null; project_id: number | null; mailbox_id: number | null; step: string | null };

/**
 * Newest first, both tables merged on their time (each has an index on `at`), one page at a time;
 * the names of the projects and mailboxes a page mentions are read for that page only.
 */
export async function auditPageModel(db: Db, opts: { page: number; pageSize: number }): Promise<AuditPageModel> {
  const [[a], [e]] = await Promise.all([db('audit').count({ n: '*' }), db('events').count({ n: '*' })]);
  const total = Number(a?.n ?? 0) + Number(e?.n ?? 0);
  const pages = Math.max(1, Math.ceil(total / opts.pageSize));
  const page = Math.min(Math.max(1, Math.floor(opts.page)), pages);
  // Each side reads at most offset + page rows from its index on `at`; only those are merged and sorted.
  const upTo = page * opts.pageSize;
  const rows: Merged[] = await db.raw(`
    select * from (select 'audit' as source, id, at, actor, action as what, target, detail, cast(null as integer) as project_id, cast(null as integer) as mailbox_id, null as step
                   from audit order by at desc, id desc limit ?) a
    union all
    select * from (select 'event' as source, id, at, actor, outcome as what, null as target, message as detail, project_id, mailbox_id, step
                   from events order by at desc, id desc limit ?) e
    order by at desc, id desc limit ? offset ?`, [upTo, upTo, opts.pageSize, (page - 1) * opts.pageSize])
    .then((r: unknown) => (Array.isArray(r) ? r : (r as { rows: Merged[] }).rows));

  const projectIds = [...new Set(rows.map((r) => r.project_id).filter((id): id is number => id !== null))];
  const mailboxIds = [...new Set(rows.map((r) => r.mailbox_id).filter((id): id is number => id !== null))];
  const projects = new Map((projectIds.length ? await db('projects').whereIn('id', projectIds).select('id', 'name') : []).map((p: { id: number; name: string }) => [Number(p.id), p.name]));
  const mailboxes = new Map((mailboxIds.length ? await db('mailboxes').whereIn('id', mailboxIds).select('id', 'address') : []).map((m: { id: number; address: string }) => [Number(m.id), m.address]));

  const lines = rows.map((r): AuditLine => {
    if (r.source === 'audit') return { source: 'audit', at: r.at, actor: r.actor, what: r.what, step: null, target: r.target, detail: r.detail, link: null };
    const mailbox = r.mailbox_id === null ? undefined : mailboxes.get(Number(r.mailbox_id));
    const project = r.project_id === null ? undefined : projects.get(Number(r.project_id));
    return {
      source: 'event', at: r.at, actor: r.actor, what: r.what, step: r.step, detail: r.detail,
      target: mailbox ?? project ?? null,
      link: mailbox !== undefined ? `/mailboxes/${r.mailbox_id}` : project !== undefined ? `/projects/${r.project_id}` : null,
    };
  });
  return { lines, page, pages, total };
}
