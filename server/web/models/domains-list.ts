import type { AppContext } from '../../context.ts';
import { listPlatforms } from '../../db/repos/platforms.ts';
import { domainChecks, saveDomainCheck, watchedDomains } from '../../db/repos/watched-domains.ts';
import type { CheckStatus } from '../../dns/checks/types.ts';
import { dnsDots, type DnsDot } from '../../dns/dots.ts';
import { diagnoseKnownDomain } from '../../dns/recheck.ts';
import { CutoverError } from '../../errors.ts';
import { knownDomains } from '../../services/known-domains.ts';
import { reportLines, type DomainCheckLine, type ServerLine } from './domain-page.ts';

export interface DomainsRow {
  name: string; href: string; platform: string; source: 'project' | 'manual' | 'platform'; project: string | null;
  status: CheckStatus | null; dots: DnsDot[]; checkedAt: string | null; error: string | null; removable: boolean;
}
export interface DomainsPageModel { domains: DomainsRow[]; platforms: Array<{ name: string }>; total: number; notGreen: number; onlyNotGreen: boolean; page: number; pages: number }

/**
 * Reads rows only (the re-check job's stored results): a few queries whatever the number of
 * domains, and one page of them drawn (thousands of rows of six dots make a page too heavy to read).
 */
export async function domainsPageModel(app: AppContext, base: string, opts: { page?: number; pageSize?: number; onlyNotGreen?: boolean } = {}): Promise<DomainsPageModel> {
  const [known, checks, platforms, projects] = await Promise.all([
    knownDomains(app), domainChecks(app.db), listPlatforms(app.db),
    app.db('projects').select('id', 'name') as Promise<Array<{ id: number; name: string }>>,
  ]);
  const platformName = new Map(platforms.map((p) => [p.id, p.name]));
  const projectName = new Map(projects.map((p) => [p.id, p.name]));
  const domains = known.map((d): DomainsRow => {
    const check = checks.get(d.name);
    const href = d.projectId ? `${base}/projects/${d.projectId}/domains/${encodeURIComponent(d.name)}` : `${base}/domains/${encodeURIComponent(d.name)}`;
    return {
      name: d.name, href, platform: platformName.get(d.platformId) ?? `#${d.platformId}`, source: d.source,
      project: d.projectId ? projectName.get(d.projectId) ?? null : null,
      status: check?.status ?? null, dots: check?.dots ?? dnsDots([]), checkedAt: check?.checked_at ?? null, error: check?.error ?? null,
      removable: d.source !== 'project',
    };
  });
  const notGreen = domains.filter((d) => d.status !== 'ok');
  const shown = opts.onlyNotGreen ? notGreen : domains;
  const pageSize = opts.pageSize ?? shown.length;
  const pages = Math.max(1, Math.ceil(shown.length / Math.max(1, pageSize)));
  const page = Math.min(Math.max(1, Math.floor(opts.page ?? 1)), pages);
  return {
    domains: shown.slice((page - 1) * pageSize, page * pageSize), platforms: platforms.map((p) => ({ name: p.name })),
    total: domains.length, notGreen: notGreen.length, onlyNotGreen: opts.onlyNotGreen ?? false, page, pages,
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
