// The groupware copy of one account: contacts, calendars and tasks over CalDAV/CardDAV, filters
// and the auto-reply over ManageSieve. A side without an endpoint, or a part not wanted, is listed
// with the reason, the way aliases are listed as not migrated.
import { CutoverError } from '../errors.ts';
import type { Lookup } from '../dns/resolver.ts';
import type { DavEndpoint, SieveEndpoint } from '../plugins/contract.ts';
import { DavClient, type DavCollection } from './dav/client.ts';
import { copyDav } from './dav/copy.ts';
import { davUrlFromDns, discoverHomes } from './dav/discovery.ts';
import { DavSession } from './dav/http.ts';
import type { CollectionReport, GroupwareKind, GroupwareLedger } from './ledger.ts';
import { ManageSieve } from './sieve/client.ts';
import { copySieve, SIEVE_COLLECTION } from './sieve/copy.ts';

export interface GroupwareSide {
  /** null/undefined: this side offers no CalDAV/CardDAV. An empty url: discover it from `domain`. */
  dav?: DavEndpoint | null;
  sieve?: SieveEndpoint | null;
  /** The account's mail domain, for RFC 6764 SRV discovery. */
  domain?: string;
}

export interface GroupwareWanted { contacts: boolean; calendars: boolean; filters: boolean }

export interface GroupwareOptions {
  source: GroupwareSide;
  dest: GroupwareSide;
  wanted: GroupwareWanted;
  ledger: GroupwareLedger;
  pass: number;
  /** The admin's choice to leave a collection out: a reason, or undefined. */
  excluded?(collection: { href: string; name: string; kind: GroupwareKind }): string | undefined;
  lookup?: Lookup;
  maxItemBytes?: number;
}

export interface GroupwareReport { collections: CollectionReport[] }

const DAV_PART = 'dav:';

function unavailable(sourceId: string, kind: GroupwareKind, name: string, reason: string, pass: number): CollectionReport {
  return { sourceId, kind, name, destHref: null, state: 'unavailable', reason, items: 0, copied: 0, updated: 0, unchanged: 0, deleted: 0, skipped: 0, pass };
}

export async function resolveDav(side: GroupwareSide, lookup: Lookup | undefined): Promise<DavEndpoint | null> {
  if (!side.dav) return null;
  if (side.dav.url) return side.dav;
  if (!side.domain) throw new CutoverError('DAV_NOT_FOUND', { who: side.dav.actAs?.user ?? side.dav.auth.user, detail: 'no URL and no domain to look up' });
  const url = (lookup && await davUrlFromDns(side.domain, lookup)) ?? `https://${side.domain}/`;
  return { ...side.dav, url };
}

function collectionName(c: DavCollection): string {
  return c.displayName ?? c.href;
}

async function copyDavPart(opts: GroupwareOptions, kinds: Set<GroupwareKind>): Promise<CollectionReport[]> {
  const what = [...kinds].includes('addressbook') ? (kinds.size > 1 ? 'Contacts, calendars and tasks' : 'Contacts') : 'Calendars and tasks';
  const [sourceDav, destDav] = [await resolveDav(opts.source, opts.lookup), await resolveDav(opts.dest, opts.lookup)];
  if (!sourceDav || !destDav) {
    const report = unavailable(DAV_PART, [...kinds][0]!, what, `the ${!sourceDav ? 'source' : 'destination'} platform has no CalDAV/CardDAV endpoint for this account`, opts.pass);
    await opts.ledger.saveCollection(report);
    return [report];
  }
  const source = new DavClient(new DavSession(sourceDav));
  const dest = new DavClient(new DavSession(destDav));
  try {
    const [sourceHomes, destHomes] = await Promise.all([discoverHomes(source), discoverHomes(dest, { createPrincipal: true })]);
    return await copyDav({
      source, sourceHomes, dest, destHomes, ledger: opts.ledger, pass: opts.pass, kinds, maxItemBytes: opts.maxItemBytes,
      excluded: (c, kind) => opts.excluded?.({ href: c.href, name: collectionName(c), kind }),
    });
  } finally {
    source.session.close();
    dest.session.close();
  }
}

async function copySievePart(opts: GroupwareOptions): Promise<CollectionReport> {
  const name = 'Mail filters and auto-reply (Sieve)';
  if (!opts.source.sieve || !opts.dest.sieve) {
    const report = unavailable(SIEVE_COLLECTION, 'filters', name, `the ${!opts.source.sieve ? 'source' : 'destination'} platform has no ManageSieve endpoint for this account`, opts.pass);
    await opts.ledger.saveCollection(report);
    return report;
  }
  const reason = opts.excluded?.({ href: SIEVE_COLLECTION, name, kind: 'filters' });
  if (reason) {
    const report = { ...unavailable(SIEVE_COLLECTION, 'filters', name, reason, opts.pass), state: 'excluded' as const };
    await opts.ledger.saveCollection(report);
    return report;
  }
  const source = await ManageSieve.connect(opts.source.sieve);
  try {
    const dest = await ManageSieve.connect(opts.dest.sieve);
    try {
      return await copySieve({ source, dest, ledger: opts.ledger, pass: opts.pass });
    } finally {
      await dest.logout();
    }
  } finally {
    await source.logout();
  }
}

export async function copyGroupware(opts: GroupwareOptions): Promise<GroupwareReport> {
  const kinds = new Set<GroupwareKind>();
  if (opts.wanted.contacts) kinds.add('addressbook');
  if (opts.wanted.calendars) { kinds.add('calendar'); kinds.add('tasks'); }
  const collections: CollectionReport[] = [];
  if (kinds.size > 0) collections.push(...await copyDavPart(opts, kinds));
  if (opts.wanted.filters) collections.push(await copySievePart(opts));
  return { collections };
}

export function summarise(report: GroupwareReport): string {
  const sum = (key: 'copied' | 'updated' | 'deleted' | 'skipped') => report.collections.reduce((n, c) => n + c[key], 0);
  const parts = [`${sum('copied')} items copied`, sum('updated') && `${sum('updated')} updated`, sum('deleted') && `${sum('deleted')} deleted`, sum('skipped') && `${sum('skipped')} skipped (see the list)`].filter(Boolean);
  const left = report.collections.filter((c) => c.state !== 'copied').map((c) => `${c.name}: ${c.state}${c.reason ? ` (${c.reason})` : ''}`);
  return `${parts.join(', ')} in ${report.collections.filter((c) => c.state === 'copied').length} collection(s)${left.length ? `; ${left.join('; ')}` : ''}`;
}
