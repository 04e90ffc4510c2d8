import type { AppContext } from '../../context.ts';
import { listPlatforms } from '../../db/repos/platforms.ts';
import { saveDomainCheck, watchedDomains } from '../../db/repos/watched-domains.ts';
import type { CheckStatus } from '../../dns/checks/types.ts';
import { dnsDots, type DnsDot } from '../../dns/dots.ts';
import { diagnoseKnownDomain } from '../../dns/recheck.ts';
import { CutoverError } from '../../errors.ts';
import { reportLines, type DomainCheckLine, type ServerLine } from './domain-page.ts';

export interface DomainsRow {
  name: string; href: string; platform: string; source: 'project' | 'manual' | 'platform'; project: string | null;
  status: CheckStatus | null; dots: DnsDot[]; checkedAt: string | null; error: string | null; removable: boolean;
}
export interface DomainsPageModel { domains: DomainsRow[]; platforms: Array<{ name: string }>; total: number; notGreen: number; onlyNotGreen: boolean; page: number; pages: number }

// Every known domain as one SQL relation: the domains of projects (the newest project of a name
// wins) and the watched ones no project has, each with the re-check job's last result.
function knownWithChecks(app: AppContext) {
  const db = app.db;
  const fromProjects = db('domains as d').join('projects as p', 'p.id', 'd.project_id')
    .whereRaw('d.project_id = (select max(d2.project_id) from domains as d2 where d2.name = d.name)')
    .select('d.name', 'p.dest_platform_id as platform_id', db.raw("'project' as source"), 'p.id as project_id', 'p.name as project_name');
  const watched = db('watched_domains as w').whereNotExists(db('domains as d3').whereRaw('d3.name = w.name'))
    .select('w.name', 'w.platform_id', 'w.source', db.raw('null as project_id'), db.raw('null as project_name'));
  // Unwrapped: SQLite refuses parentheses around the members of a UNION.
  return db.from(fromProjects.unionAll(watched, false).as('k')).leftJoin('domain_checks as c', 'c.name', 'k.name');
}

const notGreen = (q: ReturnType<typeof knownWithChecks>) => q.where((w) => w.whereNull('c.status').orWhereNot('c.status', 'ok'));

/**
 * One page of the known domains, paged in SQL: two counts and one LIMIT/OFFSET query, so the page
 * costs the same with 50 domains or 50,000 (it reads stored results only, never a lookup).
 */
export async function domainsPageModel(app: AppContext, base: string, opts: { page?: number; pageSize?: number; onlyNotGreen?: boolean } = {}): Promise<DomainsPageModel> {
  const [[all], [bad], platforms] = await Promise.all([
    knownWithChecks(app).count({ n: '*' }) as Promise<Array<{ n: number | string }>>,
    notGreen(knownWithChecks(app)).count({ n: '*' }) as Promise<Array<{ n: number | string }>>,
    listPlatforms(app.db),
  ]);
  const total = Number(all?.n ?? 0);
  const notGreenCount = Number(bad?.n ?? 0);
  const shown = opts.onlyNotGreen ? notGreenCount : total;
  const pageSize = Math.max(1, opts.pageSize ?? Math.max(1, shown));
  const pages = Math.max(1, Math.ceil(shown / pageSize));
  const page = Math.min(Math.max(1, Math.floor(opts.page ?? 1)), pages);
  const query = knownWithChecks(app).select('k.name', 'k.platform_id', 'k.source', 'k.project_id', 'k.project_name', 'c.status', 'c.dots', 'c.checked_at', 'c.error')
    .orderBy('k.name').limit(pageSize).offset((page - 1) * pageSize);
  type Row = { name: string; platform_id: number; source: DomainsRow['source']; project_id: number | null; project_name: string | null; status: CheckStatus | null; dots: string | null; checked_at: string | null; error: string | null };
  const rows: Row[] = await (opts.onlyNotGreen ? notGreen(query) : query);
  const platformName = new Map(platforms.map((p) => [p.id, p.name]));
  return {
    domains: rows.map((r): DomainsRow => ({
      name: r.name,
      href: r.project_id ? `${base}/projects/${r.project_id}/domains/${encodeURIComponent(r.name)}` : `${base}/domains/${encodeURIComponent(r.name)}`,
      platform: platformName.get(Number(r.platform_id)) ?? `#${r.platform_id}`, source: r.source, project: r.project_name,
      status: r.status ?? null, dots: r.dots ? JSON.parse(r.dots) as DnsDot[] : dnsDots([]), checkedAt: r.checked_at ?? null, error: r.error ?? null,
      removable: r.source !== 'project',
    })),
    platforms: platforms.map((p) => ({ name: p.name })),
    total, notGreen: notGreenCount, onlyNotGreen: opts.onlyNotGreen ?? false, page, pages,
  };
}

export interface WatchedDomainPageModel {
  project: null;
  domain: { name: string; zone: string | null; status: CheckStatus };
  platform: string;
  checks: DomainCheckLine[];
  servers: ServerLine[];
  checkedAt: string;
  errors: string[];
}

/** A domain without a project: the domain page's checks against the platform it was added with, stored as the job would. */
export async function watchedDomainPageModel(app: AppContext, name: string): Promise<WatchedDomainPageModel> {
  const row = (await watchedDomains(app.db)).find((w) => w.name === name.toLowerCase());
  if (!row) throw new CutoverError('INPUT_INVALID', { detail: `no watched domain ${name}` });
  const report = await diagnoseKnownDomain(app, { name: row.name, platformId: row.platform_id, oldPlatformId: null, resolvers: row.nameservers.split(',').filter(Boolean), authoritative: [] });
  await saveDomainCheck(app.db, { name: row.name, platform_id: row.platform_id, status: report.status, dots: dnsDots(report.checks), checked_at: report.checkedAt, elapsed_ms: report.elapsedMs, error: report.errors[0] ?? null });
  const platforms = await listPlatforms(app.db);
  return {
    project: null,
    domain: { name: row.name, zone: report.zone, status: report.status },
    platform: platforms.find((p) => p.id === row.platform_id)?.name ?? '',
    ...reportLines(report),
    checkedAt: report.checkedAt,
    errors: report.errors,
  };
}
