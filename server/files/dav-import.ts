// The CardDAV/CalDAV side of a file import: contacts, events and tasks read from PST folders and
// .ics/.vcf files go through the groupware DAV writer (server/groupware/dav/writer.ts) into one
// destination collection per source folder and kind, with the groupware ledger keyed by the file's
// identity and the item's id. The server is found the way `cutover copy` finds it (the given URL,
// else RFC 6764 discovery from the account's domain), only once a file turns out to hold such items.
import { createHash } from 'node:crypto';
import { CutoverError } from '../errors.ts';
import { DavClient, type DavCollection, type DavHomes } from '../groupware/dav/client.ts';
import { davUrlFromDns, discoverHomes } from '../groupware/dav/discovery.ts';
import { DavSession } from '../groupware/dav/http.ts';
import { systemLookup } from '../groupware/dav/system-lookup.ts';
import { DavWriter } from '../groupware/dav/writer.ts';
import type { GroupwareLedger, LedgerItem, SkipItem } from '../groupware/ledger.ts';
import type { Lookup } from '../dns/resolver.ts';
import type { DavEndpoint } from '../plugins/contract.ts';
import type { FileDavItem } from './items.ts';

export interface FileCollectionReport {
  file: string;
  /** The PST folder or the file the items come from. */
  source: string;
  kind: FileDavItem['collection'];
  /** The destination collection's path; null in a dry run before discovery, or when there is none. */
  dest: string | null;
  state: 'planned' | 'imported' | 'unavailable' | 'failed';
  reason?: string;
  items: number;
  copied: number;
  updated: number;
  alreadyImported: number;
  /** Refused by the destination, or not imported because there is no DAV server: with the reason. */
  skipped: number;
  /** Of the skipped: those the destination refused (or failed on), rather than ones with no CalDAV/CardDAV form. */
  refused: number;
  skips: Array<{ id: string; reason: string }>;
  /** What the dry run shows: the items' names or titles (the first 1,000). */
  listed: Array<{ id: string; label: string; note?: string }>;
}

export interface DavImportOptions {
  /** The destination's DAV login; `url` empty means "discover it from `domain`". */
  dest: DavEndpoint;
  domain?: string;
  lookup?: Lookup;
  /** Where the ledger lives; undefined in a dry run (nothing is written). */
  ledger?: GroupwareLedger;
  dryRun: boolean;
  pass?: number;
}

const MAX_LISTED = 1000;
const CONTENT_TYPE = { addressbook: 'text/vcard; charset=utf-8', calendar: 'text/calendar; charset=utf-8', tasks: 'text/calendar; charset=utf-8' } as const;
const NAMES = { addressbook: 'contacts', calendar: 'events', tasks: 'tasks' } as const;

interface Open { client: DavClient; homes: DavHomes }

interface CollectionState {
  report: FileCollectionReport;
  key: string;
  writer?: DavWriter;
  known?: Map<string, LedgerItem>;
  skips?: Map<string, SkipItem>;
}

function slug(name: string): string {
  return name.normalize('NFKD').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|-+$/g, '').slice(0, 80) || 'imported';
}

export class DavImport {
  private readonly collections = new Map<string, CollectionState>();
  private connection?: Promise<Open | { unavailable: string }>;

  constructor(private readonly opts: DavImportOptions) {}

  get reports(): FileCollectionReport[] {
    return [...this.collections.values()].map((c) => c.report);
  }

  private connect(): Promise<Open | { unavailable: string }> {
    this.connection ??= (async () => {
      let url = this.opts.dest.url;
      try {
        if (!url) {
          if (!this.opts.domain) return { unavailable: 'no CalDAV/CardDAV server: none was given (--dest-dav, or the destination platform\'s dav settings) and the login has no domain to discover one from' };
          url = (await davUrlFromDns(this.opts.domain, this.opts.lookup ?? systemLookup())) ?? `https://${this.opts.domain}/`;
        }
        const client = new DavClient(new DavSession({ ...this.opts.dest, url }));
        try {
          return { client, homes: await discoverHomes(client) };
        } catch (err) {
          client.session.close();
          throw err;
        }
      } catch (err) {
        // A wrong password is the admin's to fix and stops the import; no server at all is listed.
        if (err instanceof CutoverError && err.code === 'AUTH_FAILED') throw err;
        return { unavailable: `no CalDAV/CardDAV server for this account${url ? ` at ${url}` : ''}: ${err instanceof Error ? err.message : String(err)}` };
      }
    })();
    return this.connection;
  }

  private state(file: string, identity: string, item: FileDavItem): CollectionState {
    const source = item.folder.join('/') || file;
    const key = `${identity}:${source}:${item.collection}`;
    let state = this.collections.get(key);
    if (!state) {
      state = {
        key,
        report: { file, source, kind: item.collection, dest: null, state: this.opts.dryRun ? 'planned' : 'imported', items: 0, copied: 0, updated: 0, alreadyImported: 0, skipped: 0, refused: 0, skips: [], listed: [] },
      };
      this.collections.set(key, state);
    }
    return state;
  }

  private async prepare(state: CollectionState, item: FileDavItem, open: Open): Promise<void> {
    if (state.writer || state.report.state !== 'imported') return;
    const ledger = this.opts.ledger!;
    const previous = await ledger.collection(state.key);
    const home = item.collection === 'addressbook' ? open.homes.addressbookHome : open.homes.calendarHome;
    if (!previous?.destHref && !home) {
      state.report.state = 'unavailable';
      state.report.reason = `the destination (${open.client.host}) has no ${item.collection === 'addressbook' ? 'address book' : 'calendar'} home`;
      return;
    }
    const folderName = item.folder.at(-1) ?? 'Imported';
    // An .ics of events and tasks gives a calendar and a task list: they should not both be called "Work".
    const name = item.collection === 'tasks' && !/task|tâche|aufgabe/i.test(folderName) ? `${folderName} (tasks)` : folderName;
    const href = previous?.destHref ?? `${home!.endsWith('/') ? home : `${home}/`}${slug(folderName)}${item.collection === 'tasks' ? '-tasks' : ''}/`;
    if (!previous?.destHref) {
      const like: DavCollection = {
        href, kind: item.collection === 'addressbook' ? 'addressbook' : 'calendar', displayName: name,
        components: item.collection === 'tasks' ? ['VTODO'] : item.collection === 'calendar' ? ['VEVENT'] : [],
      };
      await open.client.createCollection(href, like);
    }
    state.report.dest = href;
    state.writer = new DavWriter(open.client, href, ledger, this.opts.pass ?? 1);
    state.known = await ledger.items(state.key);
    state.skips = await ledger.skips(state.key);
  }

  private skip(report: FileCollectionReport, id: string, reason: string): void {
    report.skipped++;
    if (report.skips.length < MAX_LISTED) report.skips.push({ id, reason });
  }

  /** An item of a calendar or address book file that has no CalDAV/CardDAV form: listed with the reason. */
  skipItem(file: string, identity: string, folder: string[], collection: FileDavItem['collection'], id: string, reason: string): void {
    const { report } = this.state(file, identity, { folder, collection } as FileDavItem);
    report.items++;
    this.skip(report, id, reason);
  }

  /** One item: listed in a dry run, written otherwise (unless the ledger has this very version). */
  async add(file: string, identity: string, item: FileDavItem): Promise<void> {
    const state = this.state(file, identity, item);
    const { report } = state;
    report.items++;
    if (report.listed.length < MAX_LISTED) report.listed.push({ id: item.id, label: item.label, ...(item.note && { note: item.note }) });
    const open = await this.connect();
    if ('unavailable' in open) {
      report.state = 'unavailable';
      report.reason = open.unavailable;
      this.skip(report, item.id, open.unavailable);
      return;
    }
    if (this.opts.dryRun) return;
    await this.prepare(state, item, open);
    if (!state.writer) {
      this.skip(report, item.id, report.reason ?? 'no destination collection');
      return;
    }
    const sourceId = `${identity}#${item.id}`;
    const sourceVersion = createHash('sha256').update(item.data).digest('hex').slice(0, 32);
    const known = state.known!.get(sourceId);
    if (known?.sourceVersion === sourceVersion) { report.alreadyImported++; return; }
    let outcome;
    try {
      outcome = await state.writer.write({ sourceId, collection: state.key, sourceVersion, data: item.data, contentType: CONTENT_TYPE[item.collection] }, known);
    } catch (err) {
      if (err instanceof CutoverError && err.code === 'AUTH_FAILED') throw err;
      // The server failing on one item (a 5xx, a dropped connection) fails this item, listed; the next one is tried.
      report.state = 'failed';
      report.reason = err instanceof Error ? err.message : String(err);
      this.skip(report, item.id, `${item.label}: ${report.reason}`);
      report.refused++;
      return;
    }
    if (outcome.result !== 'skipped' && state.skips!.has(sourceId)) await this.opts.ledger!.unskip(sourceId);
    if (outcome.result === 'skipped') {
      this.skip(report, item.id, `${item.label}: ${outcome.reason}`);
      report.refused++;
    }
    else if (outcome.result === 'created') report.copied++;
    else if (outcome.result === 'updated') report.updated++;
    else report.alreadyImported++;
  }

  /** Saves each collection's row (the mailbox page and the report read them) and closes the connection. */
  async finish(): Promise<void> {
    try {
      if (!this.opts.ledger || this.opts.dryRun) return;
      for (const { key, report } of this.collections.values()) {
        await this.opts.ledger.saveCollection({
          sourceId: key, kind: report.kind, name: `${report.file}: ${report.source}`, destHref: report.dest,
          state: report.state === 'imported' ? 'copied' : report.state === 'planned' ? 'copied' : report.state, reason: report.reason ?? null,
          items: report.items, copied: report.copied, updated: report.updated, unchanged: report.alreadyImported, deleted: 0, skipped: report.skipped, pass: this.opts.pass ?? 1,
        });
      }
    } finally {
      const open = await this.connection?.catch(() => undefined);
      if (open && 'client' in open) open.client.session.close();
    }
  }
}

/** "12 contacts, 3 events" for a line of output. */
export function davCounts(reports: FileCollectionReport[]): string {
  const byKind = new Map<string, number>();
  for (const r of reports) byKind.set(NAMES[r.kind], (byKind.get(NAMES[r.kind]) ?? 0) + r.items);
  return [...byKind].map(([kind, n]) => `${n} ${kind}`).join(', ');
}
