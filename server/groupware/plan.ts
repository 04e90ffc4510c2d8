// What moves of one mailbox besides the mail, as the admin chooses it: every collection known
// (from earlier passes, or read from the source on request) and the filter scripts, each copied
// or left out, by this mailbox's own list or by the project's options.
import type { AppContext } from '../context.ts';
import { recordEvent } from '../db/repos/events.ts';
import { mailboxById, type MailboxRow } from '../db/repos/mailboxes.ts';
import { projectById, projectOptions, type ProjectOptions } from '../db/repos/projects.ts';
import { ServerResolver } from '../dns/resolver.ts';
import { parseNameServer, systemNameServers } from '../dns/transport.ts';
import { CutoverError } from '../errors.ts';
import { DavClient } from './dav/client.ts';
import { kindOf } from './dav/copy.ts';
import { discoverHomes } from './dav/discovery.ts';
import { DavSession } from './dav/http.ts';
import { exclusionRule, mailboxExclusions, replaceExclusions, SIEVE_COLLECTION, type ExclusionSource } from './exclusions.ts';
import { resolveDav } from './index.ts';
import { dbGroupwareLedger, type CollectionState, type GroupwareKind } from './ledger.ts';

export interface CollectionChoice {
  /** The collection's href, `sieve:` for the filters, or a name the admin typed. */
  collection: string;
  name: string;
  /** null: a name typed by the admin that no known collection has (yet). */
  kind: GroupwareKind | null;
  excludedBy: ExclusionSource | null;
  /** The last pass's outcome; null before any. */
  state: CollectionState | null;
}

export interface CollectionPlan {
  mailbox: { id: number; address: string };
  /** Kinds the project copies at all (its `groupware` option). */
  wanted: ProjectOptions['groupware'];
  projectExcluded: string[];
  mailboxExcluded: string[];
  choices: CollectionChoice[];
  /** Read from the source just now; with the server's words when that failed. */
  lookup: { done: boolean; error: string | null };
}

export const FILTERS_NAME = 'Mail filters and auto-reply (Sieve)';

/** The source's calendars, task lists and address books, read now (nothing is copied or written). */
async function sourceCollections(app: AppContext, row: MailboxRow, options: ProjectOptions): Promise<Array<{ href: string; name: string; kind: GroupwareKind }>> {
  const project = await projectById(app.db, row.project_id);
  const source = await app.connector(project.source_platform_id);
  const password = row.source_password_sealed ? app.box.open(row.source_password_sealed) : undefined;
  const login = row.source_login_sealed ? app.box.open(row.source_login_sealed) : undefined;
  const dav = await source.davEndpoint?.(row.address, password, login);
  if (!dav) throw new CutoverError('DAV_NOT_FOUND', { who: row.address, detail: 'the source platform has no CalDAV/CardDAV settings' });
  const servers = options.nameservers.length ? options.nameservers.map(parseNameServer) : systemNameServers();
  const endpoint = await resolveDav({ dav, domain: row.address.slice(row.address.lastIndexOf('@') + 1) }, new ServerResolver(servers));
  const client = new DavClient(new DavSession(endpoint!));
  try {
    const found = await client.collections(await discoverHomes(client));
    return found.map((c) => ({ href: c.href, name: c.displayName ?? c.href, kind: kindOf(c) }));
  } finally {
    client.session.close();
  }
}

export async function collectionPlan(app: AppContext, mailboxId: number, opts: { lookup?: boolean } = {}): Promise<CollectionPlan> {
  const row = await mailboxById(app.db, mailboxId);
  const options = projectOptions(await projectById(app.db, row.project_id));
  const mine = await mailboxExclusions(app.db, row.id);
  const rule = exclusionRule(options.excludeCollections, mine);
  const known = new Map<string, { name: string; kind: GroupwareKind; state: CollectionState | null }>();
  for (const c of await dbGroupwareLedger(app.db, row.id).collections()) {
    // The "not migrated" line of a side without DAV names no collection.
    if (c.sourceId !== 'dav:') known.set(c.sourceId, { name: c.name, kind: c.kind, state: c.state });
  }
  if (!known.has(SIEVE_COLLECTION)) known.set(SIEVE_COLLECTION, { name: FILTERS_NAME, kind: 'filters', state: null });
  const lookup = { done: false, error: null as string | null };
  if (opts.lookup) {
    try {
      for (const c of await sourceCollections(app, row, options)) if (!known.has(c.href)) known.set(c.href, { ...c, state: null });
      lookup.done = true;
    } catch (err) {
      lookup.error = err instanceof Error ? err.message : String(err);
    }
  }
  const choices: CollectionChoice[] = [...known].map(([collection, c]) => ({ collection, name: c.name, kind: c.kind, state: c.state, excludedBy: rule({ href: collection, name: c.name }) ?? null }));
  const matched = new Set(choices.flatMap((c) => [c.collection, c.name]));
  for (const typed of mine) if (!matched.has(typed)) choices.push({ collection: typed, name: typed, kind: null, state: null, excludedBy: 'mailbox' });
  const order: Record<string, number> = { addressbook: 0, calendar: 1, tasks: 2, filters: 3 };
  choices.sort((a, b) => (order[a.kind ?? ''] ?? 4) - (order[b.kind ?? ''] ?? 4) || a.name.localeCompare(b.name));
  return { mailbox: { id: row.id, address: row.address }, wanted: options.groupware, projectExcluded: options.excludeCollections, mailboxExcluded: mine, choices, lookup };
}

/**
 * Replaces the collections this mailbox leaves out (hrefs, display names, `sieve:`). Takes effect
 * at the next groupware pass (the first copy or a delta pass); what was copied before stays on the
 * destination. Recorded as an event of the mailbox.
 */
export async function saveCollectionExclusions(app: AppContext, mailboxId: number, excluded: string[], actor: string): Promise<CollectionPlan> {
  const row = await mailboxById(app.db, mailboxId);
  const { added, removed } = await replaceExclusions(app.db, row.id, excluded, actor);
  if (added.length || removed.length) {
    const words = [added.length && `left out: ${added.join(', ')}`, removed.length && `copied again: ${removed.join(', ')}`].filter(Boolean).join('; ');
    await recordEvent(app.db, { projectId: row.project_id, mailboxId: row.id, domainId: row.domain_id, step: row.step, outcome: 'collections-edited', actor, message: `collections edited by ${actor}: ${words}`.slice(0, 2000) });
  }
  return collectionPlan(app, row.id);
}
