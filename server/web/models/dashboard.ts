import type { AppContext } from '../../context.ts';

export interface DashboardModel {
  projects: Array<{ id: number; name: string; source: string; destination: string; total: number; counts: Array<{ state: string; n: number }> }>;
  attention: Array<{ id: number; address: string; projectId: number; project: string; state: string; step: string; error: string | null }>;
  attentionTotal: number;
  /** Domains of open projects whose DNS the dns-cutover step has not yet found (or been told) right. */
  dnsNotGreen: Array<{ projectId: number | null; project: string | null; domain: string; status: string; detail: string | null; label: string }>;
}

const ATTENTION = ['failed', 'needs_admin'];
const ATTENTION_SHOWN = 50;

const DOMAINS_SHOWN = 50;

/** Four queries whatever the number of mailboxes: projects, counts per project and state, the mailboxes that need someone. */
export async function dashboardModel(app: AppContext): Promise<DashboardModel> {
  const projects = await app.db('projects as p')
    .join('platforms as s', 's.id', 'p.source_platform_id').join('platforms as d', 'd.id', 'p.dest_platform_id')
    .select('p.id', 'p.name', 's.name as source', 'd.name as destination').orderBy('p.id', 'desc');
  const counts: Array<{ project_id: number; state: string; n: number | string }> = await app.db('mailboxes').select('project_id', 'state').count({ n: '*' }).groupBy('project_id', 'state');
  const attention = await app.db('mailboxes as m').join('projects as p', 'p.id', 'm.project_id').whereIn('m.state', ATTENTION)
    .select('m.id', 'm.address', 'm.project_id as projectId', 'p.name as project', 'm.state', 'm.step', 'm.error_message as error')
    .orderBy('m.updated_at', 'desc').limit(ATTENTION_SHOWN);
  const [total] = await app.db('mailboxes').whereIn('state', ATTENTION).count({ n: '*' });
  // From the step's stored outcome, not a live lookup: the dashboard stays instant, the domain page checks.
  const domains: Array<{ projectId: number; project: string; domain: string; status: string | null; detail: string | null }> = await app.db('domains as d')
    .join('projects as p', 'p.id', 'd.project_id')
    .leftJoin('domain_steps as s', (j) => j.on('s.domain_id', 'd.id').andOnVal('s.step', 'dns-cutover'))
    .whereNot('p.state', 'completed').andWhere((q) => q.whereNull('s.status').orWhereNot('s.status', 'done'))
    .select('d.project_id as projectId', 'p.name as project', 'd.name as domain', 's.status', 's.detail')
    .orderBy('d.id').limit(DOMAINS_SHOWN);
  // And what the re-check job last found for every other known domain (added by hand, listed by a platform, or checked again after its step).
  const listed = new Set(domains.map((d) => d.domain));
  const stored: Array<{ name: string; status: string; error: string | null; projectId: number | null; project: string | null }> = await app.db('domain_checks as c')
    .leftJoin('domains as d', 'd.name', 'c.name').leftJoin('projects as p', 'p.id', 'd.project_id')
    .whereNot('c.status', 'ok').select('c.name', 'c.status', 'c.error', 'p.id as projectId', 'p.name as project')
    .orderBy('c.name').limit(DOMAINS_SHOWN);
  const fromJob = stored.filter((row) => !listed.has(row.name) && (listed.add(row.name), true))
    .map((row) => ({ projectId: row.projectId, project: row.project, domain: row.name, status: row.status, detail: row.error, label: `domains.job.${row.status}` }));
  return {
    projects: projects.map((p) => {
      const mine = counts.filter((c) => c.project_id === p.id).map((c) => ({ state: c.state, n: Number(c.n) }));
      return { ...p, total: mine.reduce((n, c) => n + c.n, 0), counts: mine };
    }),
    attention,
    attentionTotal: Number(total?.n ?? 0),
    dnsNotGreen: [...domains.map((d) => ({ ...d, status: d.status === 'waiting' ? 'error' : 'unknown', label: `dashboard.dns.${d.status === 'waiting' ? 'error' : 'unknown'}`, detail: d.detail?.split('\n')[0] ?? null })), ...fromJob].slice(0, DOMAINS_SHOWN),
  };
}
