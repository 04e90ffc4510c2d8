// Copies every calendar, task list and address book of an account from one DAV server to another:
// one destination collection per source collection (same name, colour and description), the
// source listing streamed, a few items in flight, and the ledger deciding what is new, changed,
// unchanged or gone.
import { CutoverError, formatBytes } from '../../errors.ts';
import type { CollectionReport, GroupwareKind, GroupwareLedger, LedgerItem } from '../ledger.ts';
import type { DavClient, DavCollection, DavHomes, DavItemRef } from './client.ts';
import { DavWriter } from './writer.ts';

export interface DavCopyOptions {
  source: DavClient;
  sourceHomes: DavHomes;
  dest: DavClient;
  destHomes: DavHomes;
  ledger: GroupwareLedger;
  pass: number;
  /** Which kinds to copy (contacts = addressbook; calendars = calendar + tasks). */
  kinds: ReadonlySet<GroupwareKind>;
  /** A reason to leave this collection out (the admin's plan), or undefined to copy it. */
  excluded?(collection: DavCollection, kind: GroupwareKind): string | undefined;
  maxItemBytes?: number;
  concurrency?: number;
  onItem?(collection: string, done: number): void;
}

export const DEFAULT_MAX_ITEM_BYTES = 20 * 1024 * 1024;
const DEFAULT_CONCURRENCY = 4;

/** A calendar that takes tasks and no events is a task list. */
export function kindOf(c: DavCollection): GroupwareKind {
  if (c.kind === 'addressbook') return 'addressbook';
  return c.components.includes('VTODO') && !c.components.includes('VEVENT') ? 'tasks' : 'calendar';
}

function lastSegment(href: string): string {
  const parts = href.split('/').filter(Boolean);
  return parts.at(-1) ?? 'collection';
}

function slug(href: string): string {
  let name = lastSegment(href);
  try { name = decodeURIComponent(name); } catch { /* keep it encoded */ }
  const cleaned = name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|-+$/g, '').slice(0, 80);
  return cleaned || 'collection';
}

function contentTypeFor(ref: DavItemRef, c: DavCollection): string {
  const given = ref.contentType && /^text\/(calendar|vcard|x-vcard)\b/i.test(ref.contentType) ? ref.contentType : undefined;
  return given ?? (c.kind === 'addressbook' ? 'text/vcard; charset=utf-8' : 'text/calendar; charset=utf-8');
}

function emptyReport(c: DavCollection, kind: GroupwareKind, pass: number): CollectionReport {
  return { sourceId: c.href, kind, name: c.displayName ?? lastSegment(c.href), destHref: null, state: 'copied', reason: null, items: 0, copied: 0, updated: 0, unchanged: 0, deleted: 0, skipped: 0, pass };
}

async function destinationFor(opts: DavCopyOptions, c: DavCollection, previous: CollectionReport | undefined): Promise<string | { unavailable: string }> {
  if (previous?.destHref) return previous.destHref;
  const home = c.kind === 'calendar' ? opts.destHomes.calendarHome : opts.destHomes.addressbookHome;
  if (!home) return { unavailable: `the destination (${opts.dest.host}) has no ${c.kind === 'calendar' ? 'calendar' : 'address book'} home` };
  const href = `${home.endsWith('/') ? home : `${home}/`}${slug(c.href)}/`;
  // 405: something is there already (an earlier run that crashed before saving the row): reused.
  await opts.dest.createCollection(href, c);
  return href;
}

/** Runs `work` on each item with at most `limit` in flight; the first failure stops the listing. */
async function eachLimited<T>(items: AsyncIterable<T>, limit: number, work: (item: T) => Promise<void>): Promise<void> {
  const running = new Set<Promise<void>>();
  let failure: unknown;
  for await (const item of items) {
    if (failure) break;
    const task: Promise<void> = work(item).catch((err) => { failure ??= err; }).finally(() => running.delete(task));
    running.add(task);
    if (running.size >= limit) await Promise.race(running);
  }
  await Promise.all(running);
  if (failure) throw failure;
}

async function copyCollection(opts: DavCopyOptions, c: DavCollection, kind: GroupwareKind): Promise<CollectionReport> {
  const { ledger, pass } = opts;
  const report = emptyReport(c, kind, pass);
  const previous = await ledger.collection(c.href);
  const reason = opts.excluded?.(c, kind);
  if (reason) {
    await ledger.saveCollection({ ...report, destHref: previous?.destHref ?? null, state: 'excluded', reason });
    return { ...report, state: 'excluded', reason };
  }
  const dest = await destinationFor(opts, c, previous);
  if (typeof dest !== 'string') {
    const out = { ...report, state: 'unavailable' as const, reason: dest.unavailable };
    await ledger.saveCollection(out);
    return out;
  }
  report.destHref = dest;
  await ledger.saveCollection(report);
  const writer = new DavWriter(opts.dest, dest, ledger, pass);
  const known = await ledger.items(c.href);
  const skipped = await ledger.skips(c.href);
  const seen = new Set<string>();
  const maxBytes = opts.maxItemBytes ?? DEFAULT_MAX_ITEM_BYTES;
  await eachLimited(opts.source.items(c.href), opts.concurrency ?? DEFAULT_CONCURRENCY, async (ref) => {
    seen.add(ref.href);
    report.items++;
    const row: LedgerItem | undefined = known.get(ref.href);
    if (row && row.sourceVersion === ref.etag) { report.unchanged++; return; }
    // A refusal is tried again only once the source item changes: the destination would say the same.
    if (!row && skipped.get(ref.href)?.sourceVersion === ref.etag) { report.skipped++; return; }
    const got = await opts.source.get(ref.href, maxBytes);
    if ('missing' in got) { report.items--; seen.delete(ref.href); return; }
    const base = { sourceId: ref.href, collection: c.href, sourceVersion: ref.etag };
    if ('tooLarge' in got) {
      await ledger.skip({ ...base, reason: `larger than the ${formatBytes(maxBytes)} limit for one item`, pass });
      report.skipped++;
      return;
    }
    const outcome = await writer.write({ ...base, data: got.data, contentType: contentTypeFor(ref, c), name: lastSegment(ref.href) }, row);
    if (outcome.result !== 'skipped' && skipped.has(ref.href)) await ledger.unskip(ref.href);
    if (outcome.result === 'skipped') report.skipped++;
    else if (outcome.result === 'updated') report.updated++;
    else if (outcome.result === 'created') report.copied++;
    else report.unchanged++;
    opts.onItem?.(c.href, report.items);
  });
  for (const [sourceId, row] of known) {
    if (seen.has(sourceId)) continue;
    if ((await writer.remove(row)) === 'deleted') report.deleted++;
  }
  await ledger.saveCollection(report);
  return report;
}

export async function copyDav(opts: DavCopyOptions): Promise<CollectionReport[]> {
  const collections = await opts.source.collections(opts.sourceHomes);
  const reports: CollectionReport[] = [];
  for (const c of collections) {
    const kind = kindOf(c);
    if (!opts.kinds.has(kind)) continue;
    try {
      reports.push(await copyCollection(opts, c, kind));
    } catch (err) {
      if (err instanceof CutoverError && (err.code === 'AUTH_FAILED' || err.code === 'HOST_UNREACHABLE' || err.retryable)) throw err;
      // One broken collection (a malformed listing, a refused MKCALENDAR) does not stop the others.
      const failed: CollectionReport = { ...emptyReport(c, kind, opts.pass), state: 'failed', reason: err instanceof Error ? err.message : String(err) };
      await opts.ledger.saveCollection(failed);
      reports.push(failed);
    }
  }
  return reports;
}
