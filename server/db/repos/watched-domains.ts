import type { CheckStatus } from '../../dns/checks/types.ts';
import type { DnsDot } from '../../dns/dots.ts';
import type { Db } from '../knex.ts';

export type WatchSource = 'manual' | 'platform';
export interface WatchedDomainRow { id: number; name: string; platform_id: number; source: WatchSource; nameservers: string; created_at: string }
export interface DomainCheckRow { name: string; platform_id: number | null; status: CheckStatus; dots: DnsDot[]; checked_at: string; elapsed_ms: number; error: string | null }

/** A domain added by hand replaces what a platform listed; a platform's listing never overrides the admin's choice. */
export async function watchDomain(db: Db, row: Omit<WatchedDomainRow, 'id' | 'created_at'>): Promise<void> {
  const insert = db('watched_domains').insert({ ...row, created_at: new Date().toISOString() }).onConflict('name');
  await (row.source === 'manual' ? insert.merge(['platform_id', 'source', 'nameservers']) : insert.ignore());
}

export function watchedDomains(db: Db): Promise<WatchedDomainRow[]> {
  return db<WatchedDomainRow>('watched_domains').orderBy('name');
}

export async function unwatchDomain(db: Db, name: string): Promise<boolean> {
  return (await db('watched_domains').where({ name }).delete()) > 0;
}

export async function saveDomainCheck(db: Db, row: DomainCheckRow): Promise<void> {
  const stored = { ...row, dots: JSON.stringify(row.dots) };
  await db('domain_checks').insert(stored).onConflict('name').merge();
}

export async function domainChecks(db: Db): Promise<Map<string, DomainCheckRow>> {
  const rows: Array<Omit<DomainCheckRow, 'dots'> & { dots: string }> = await db('domain_checks').select('*');
  return new Map(rows.map((r) => [r.name, { ...r, dots: JSON.parse(r.dots) as DnsDot[] }]));
}
