// Every domain cutover knows: those of its projects (the newest project's destination is where the
// DNS should point), and those watched without a project (added by hand, or listed by a platform).
import type { AppContext } from '../context.ts';
import { listPlatforms } from '../db/repos/platforms.ts';
import { projectOptions, type ProjectRow } from '../db/repos/projects.ts';
import { watchDomain, watchedDomains } from '../db/repos/watched-domains.ts';

export interface KnownDomain {
  name: string;
  platformId: number;
  source: 'project' | 'manual' | 'platform';
  /** The newest project with this domain: its page holds the dns-cutover step. */
  projectId: number | null;
  /** Where the old records come from (flagged when still published). */
  oldPlatformId: number | null;
  resolvers: string[];
  authoritative: string[];
}

export async function knownDomains(app: AppContext): Promise<KnownDomain[]> {
  const byName = new Map<string, KnownDomain>();
  for (const w of await watchedDomains(app.db)) {
    byName.set(w.name, { name: w.name, platformId: w.platform_id, source: w.source, projectId: null, oldPlatformId: null, resolvers: w.nameservers.split(',').filter(Boolean), authoritative: [] });
  }
  const rows: Array<ProjectRow & { domain: string }> = await app.db('domains as d').join('projects as p', 'p.id', 'd.project_id')
    .select('p.*', 'd.name as domain').orderBy('p.id');
  for (const row of rows) {
    const options = projectOptions(row);
    byName.set(row.domain, {
      name: row.domain, platformId: row.dest_platform_id, source: 'project', projectId: row.id, oldPlatformId: row.source_platform_id,
      resolvers: options.nameservers, authoritative: options.authoritativeServers,
    });
  }
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** Platforms whose connector can list its domains add them to the watch list (never over the admin's own choice). */
export async function refreshPlatformDomains(app: AppContext): Promise<{ listed: number; errors: string[] }> {
  let listed = 0;
  const errors: string[] = [];
  for (const platform of await listPlatforms(app.db)) {
    try {
      const connector = await app.connector(platform.id);
      if (!connector.listDomains) continue;
      for (const name of await connector.listDomains()) {
        await watchDomain(app.db, { name: name.toLowerCase(), platform_id: platform.id, source: 'platform', nameservers: '' });
        listed++;
      }
    } catch (err) {
      errors.push(`${platform.name}: ${(err as Error).message}`);
    }
  }
  return { listed, errors };
}
