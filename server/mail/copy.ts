import type { ImapFlow, ListResponse } from 'imapflow';
import type { Logger } from '../log.ts';
import type { ImapEndpoint } from '../plugins/contract.ts';
import { budgetFor, type Pace } from './bandwidth.ts';
import { memoryReclaimer } from './reclaim.ts';
import { Spool } from './spool.ts';
import type { FolderPlanEntry } from './folders.ts';
import { mapImapError } from './imap.ts';
import { folderSetupSteps, startDestSetup, type DestSetup } from './dest-folder.ts';
import { copyFolderLane, emptyReport, type FolderReport, type Selection } from './lane.ts';
import { LedgerBuffer } from './ledger-buffer.ts';
import type { Checkpoint, LedgerStore } from './ledger.ts';
import type { Pool } from './pool.ts';
import { appenderPool, imapPool, readerPool } from './pools.ts';
import { DEFAULT_STALL_SECONDS, protocolFault } from './guard.ts';
import { listFolders } from './listing.ts';
import { namespaceOf } from './inventory.ts';
import { skipLabelledInArchive } from './providers/archive-unlabelled.ts';
import { FetchReader } from './wire/fetcher.ts';
import { listAccount, type AccountListing } from './wire/list-reader.ts';
import type { PipelinedAppender } from './wire/appender.ts';
import { CutoverError } from '../errors.ts';
import { usesAccessToken } from './oauth2/endpoint.ts';
import { mirrorChanges, type MirrorOptions, type MirrorReport } from './delta/mirror.ts';
import { followRenames } from './delta/renames.ts';
import { settleAll } from './settle.ts';

export type { FolderReport, Selection } from './lane.ts';

export interface CopyProgress { folder: string; copied: number; bytes: number; totalCopied: number; totalBytes: number; remaining: number }

export interface CopyOptions {
  source: ImapEndpoint;
  dest: ImapEndpoint;
  /** The folder plan, or how to make it from a source and a destination connection (a one-shot copy). */
  plan: FolderPlanEntry[] | ((listed: { source: AccountListing; dest: AccountListing }) => Promise<FolderPlanEntry[]>);
  /** A promise is accepted so that opening a state file can overlap the first logins. */
  ledger: LedgerStore | Promise<LedgerStore>;
  pass: number;
  selection?: Selection;
  /** Folders copied at once; each takes one source and one destination connection. */
  concurrency?: number;
  /** Message bytes in flight across all folders (default: 6 MB per lane, at least 12 MB). */
  memoryBudgetBytes?: number;
  dryRun?: boolean;
  /** A server silent while it owes an answer, or a folder without a message moving, for this long stops the pass (default 15 s). */
  stallSeconds?: number;
  log?: Logger;
  onProgress?: (progress: CopyProgress) => void;
  /** Known copies follow the source (flags, expunges, moves, folders gone) before new mail is copied; needs a ledger with `delta`. */
  mirror?: MirrorOptions;
  /** Bandwidth caps and the copy window's end (server/mail/bandwidth.ts). */
  pace?: Pace;
}

export interface CopyReport {
  folders: FolderReport[]; announced: number; copied: number; bytes: number; matched: number; skipped: number; failed: number; reconnects: number; seconds: number;
  /** Copies the destination stored otherwise than sent (each listed in its folder's `altered`). */
  altered: number;
  /** What the pass changed besides copying new mail (with `mirror`). */
  mirror?: MirrorReport;
}

export const DEFAULT_CONCURRENCY = 4;
// Messages over 2 MB go through the spool, so the budget only holds small ones in flight. Once the
// client's CPU was cut, one 12 MB for four lanes held the lanes back: on the bench corpus the copy
// took 5.7-6.4 s with 12 MB and 4.7-5.1 s with 24 MB (peak RSS 134-142 against 149-155 MB).
const BUDGET_PER_LANE = 6 * 1024 * 1024;
/** The least a copy holds in flight: also what one mailbox of a workflow worker, which runs several at once, is given. */
export const MIN_BUDGET = 12 * 1024 * 1024;

/** Message bytes a one-mailbox copy keeps in flight on `lanes` lanes. */
export function defaultBudget(lanes: number): number {
  return Math.max(MIN_BUDGET, BUDGET_PER_LANE * lanes);
}

/**
 * Copies every selected message the ledger does not know yet; the same call is the full copy
 * and every delta pass. Folders run in parallel lanes, the biggest first, within a connection
 * cap per account.
 */
export async function copyMailbox(options: CopyOptions): Promise<CopyReport> {
  const started = Date.now();
  const concurrency = Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY);
  const stallSeconds = options.stallSeconds ?? DEFAULT_STALL_SECONDS;
  // Aborted when a folder fails the pass: the other folders, and logins under way, stop at once.
  const stop = new AbortController();
  const sources = imapPool(options.source, concurrency, options.log, { stallSeconds, signal: stop.signal });
  const dests = imapPool(options.dest, concurrency, options.log, { stallSeconds, signal: stop.signal });
  const appenders = appenderPool(options.dest, concurrency, { stallMs: stallSeconds * 1000, signal: stop.signal });
  const readers = readerPool(options.source, concurrency, { stallMs: stallSeconds * 1000, signal: stop.signal });
  let spool: Spool | undefined;
  let appenderLogin: Promise<void> | undefined;
  let sourcesClosing: Promise<void> | undefined;
  let setup: DestSetup | undefined;
  try {
    // Each side is listed once, both at the same time: the plan, the order and the folders to create all come from it.
    const [sourceSide, destSide] = await settleAll([listSource(sources, readers, options.source, Boolean(options.mirror)), listDest(dests, appenders, options.dest, stallSeconds)]);
    const [sourceList, destList] = [sourceSide.folders, destSide.folders];
    const plan = typeof options.plan === 'function' ? await options.plan({ source: sourceSide, dest: destSide }) : options.plan;
    const active = plan.filter((entry) => !entry.excluded);
    const statuses = folderStatuses(sourceList);
    const ledger = await options.ledger;
    // A folder renamed on the source is renamed on the destination before the set-up would create its new name.
    const renamed = options.mirror?.deletes && ledger.delta && !options.dryRun
      ? await followRenames({ sources, dests, store: ledger.delta, plan: active, sourceList, destList, destHost: options.dest.host })
      : [];
    const checkpoints = await ledger.checkpoints();
    if (!options.dryRun && active.some((entry) => entry.archivesUnlabelled)) await skipLabelledInArchive(active, sources, ledger, checkpoints);
    const expected = expectedMessages(active, statuses, checkpoints);
    // Every lane costs two logins of our own (SASL-IR: two round trips each, beside the other lanes' work); a folder
    // left for a busy lane waits for all of its work. A delta of a few dozen messages is faster on one lane; 100 new
    // messages in two folders took 1.71-1.79 s on one lane and 1.37-1.56 s on two at 80 ms RTT, the same on loopback.
    const lanes = Math.max(1, Math.min(concurrency, Math.ceil(expected / MESSAGES_PER_EXTRA_LANE)));
    // The lanes' logins start server processes: begun now, beside the set-up and the mirror, they are
    // ready when the lanes start instead of holding them back. Not for a pass with nothing new.
    if (expected > 0 && !options.dryRun) appenderLogin = Promise.all([appenders.warm(lanes), readers.warm(lanes)]).then(() => undefined);
    spool = await Spool.create();
    const current = active.flatMap((e) => { const status = statuses.get(e.source); return status ? [{ sourceFolder: e.source, uidValidity: status.uidValidity }] : []; });
    const remaining = Math.max(0, active.reduce((n, e) => n + (statuses.get(e.source)?.messages ?? 0), 0) - await ledger.handledCount(current));
    const order = [...active].sort((a, b) => (statuses.get(b.source)?.messages ?? 0) - (statuses.get(a.source)?.messages ?? 0));
    // Pipelined on the appender's session, and not waited for here: each folder's copy waits only for its own CREATE.
    // INBOX's subscription is carried over once, on the first pass (no checkpoint yet).
    const steps = options.dryRun ? [] : folderSetupSteps(destList, active, { subscribeInbox: ![...checkpoints.values()].some(Boolean) });
    setup = startDestSetup((work) => appenders.use(work), steps, options.dest.host, options.log);
    // The set-up is one pipelined round trip; no APPEND goes out before it is answered. GNU imap4d
    // stopped answering CREATEs sent while another session appended to INBOX.
    await setup.done;
    const mirror = options.mirror && ledger.delta && !options.dryRun
      ? await mirrorChanges({ sources, readers, dests, appenders, stallMs: stallSeconds * 1000, store: ledger.delta, plan: active, sourceList, sourceHost: options.source.host, destHost: options.dest.host, pass: options.pass, options: options.mirror, log: options.log, destReady: setup.done, renamed })
      : undefined;
    // The lanes read through their own sessions (readers): the imapflow ones that listed and planned
    // would only hold a connection slot on the source host from here on.
    sourcesClosing = sources.close();
    const buffer = new LedgerBuffer(ledger);
    const budget = budgetFor(options.memoryBudgetBytes ?? defaultBudget(lanes), memoryReclaimer(), options.pace);
    const totals = { copied: 0, bytes: 0 };
    const seen = new Map<string, { copied: number; bytes: number }>();
    const lane = {
      readers, dests, appenders, spool, destReady: setup.ready, sourceHost: options.source.host, destHost: options.dest.host, stallMs: stallSeconds * 1000, ledger, buffer, budget, pass: options.pass,
      selection: options.selection ?? {}, dryRun: Boolean(options.dryRun), log: options.log, stop: stop.signal,
      onProgress: (folder: FolderReport) => {
        const before = seen.get(folder.source) ?? { copied: 0, bytes: 0 };
        totals.copied += folder.copied - before.copied;
        totals.bytes += folder.copiedBytes - before.bytes;
        seen.set(folder.source, { copied: folder.copied, bytes: folder.copiedBytes });
        budget.settle?.(totals.bytes);
        // Mail that arrives during the pass is copied too: the total grows with it rather than show more than 100%.
        options.onProgress?.({ folder: folder.source, copied: folder.copied, bytes: folder.copiedBytes, totalCopied: totals.copied, totalBytes: totals.bytes, remaining: Math.max(remaining, totals.copied) });
      },
    };
    const reports = new Map<string, FolderReport>();
    for (const pool of [sources, readers, dests, appenders]) pool.limit(lanes);
    let next = 0;
    // Once a folder has failed the pass (a protocol error, a stall), no other folder is started:
    // the error is reported at once and the process does not go on copying behind it.
    let stopped = false;
    const worker = async () => {
      while (next < order.length && !stopped) {
        const entry = order[next++]!;
        const checkpoint = checkpoints.get(entry.source);
        // STATUS said empty: nothing to select (with 100,000 folders, that is 100,000 round trips saved).
        const empty = statuses.get(entry.source)?.messages === 0 && statuses.get(entry.source)!.known;
        const unchanged = empty || (checkpoint && isUnchanged(statuses.get(entry.source), checkpoint) && (await ledger.refusedUids(entry.source)).length === 0);
        try {
          const status = statuses.get(entry.source);
          const listed = status?.known ? { uidValidity: status.uidValidity, uidNext: status.uidNext } : undefined;
          reports.set(entry.source, entry.selectable && !unchanged ? await copyFolderLane(entry, lane, checkpoint, listed) : emptyReport(entry));
        } catch (err) {
          stopped = true;
          // The folders still under way stop too: a silent server would otherwise hold the
          // reported failure back by one stall timeout per folder in flight.
          if (!stop.signal.aborted) {
            stop.abort(err);
            for (const pool of [readers, dests, appenders]) void pool.close();
          }
          throw err;
        }
      }
    };
    // One folder more than there are lanes: its reader takes a source connection as soon as the
    // folder before has been read, while that folder's last messages are still being appended.
    await Promise.all(Array.from({ length: Math.min(lanes + 1, order.length) }, worker));
    // A refused CREATE stops the pass even when its folder had nothing to copy.
    await setup.done;
    const folders = active.map((entry) => reports.get(entry.source)!);
    await mirror?.finish();
    const total = (key: 'announced' | 'copied' | 'copiedBytes' | 'matched' | 'skipped' | 'failed' | 'reconnects') => folders.reduce((n, f) => n + f[key], 0);
    return {
      folders, announced: total('announced'), copied: total('copied'), bytes: total('copiedBytes'), matched: total('matched'), skipped: total('skipped'),
      failed: total('failed'), reconnects: total('reconnects'), seconds: (Date.now() - started) / 1000,
      altered: folders.reduce((n, f) => n + f.altered.length, 0), mirror: mirror?.report,
    };
  } finally {
    // A login still under way when the pools close would keep the process alive.
    await appenderLogin;
    await setup?.done.catch(() => undefined);
    // The readers' LOGOUT answers are not waited for (a round trip that a no-op pass spent doing
    // nothing): each host slot is given back when its answer comes, and the process may exit before.
    readers.close().catch(() => undefined);
    await Promise.all([sourcesClosing ?? sources.close(), dests.close(), appenders.close(), spool?.close()]);
  }
}



interface FolderStatus { messages: number; uidNext: number; uidValidity: string; known: boolean }

/**
 * Where a listing of our own failed for a reason other than a password, imapflow lists instead
 * and gives its words for the failure (and renews a refused token); a refused password is not
 * tried twice.
 */
async function rawListing(endpoint: ImapEndpoint, attempt: () => Promise<AccountListing | undefined>): Promise<AccountListing | undefined> {
  try {
    return await attempt();
  } catch (err) {
    if (err instanceof CutoverError && err.code === 'AUTH_FAILED' && !usesAccessToken(endpoint.auth)) throw err;
    return undefined;
  }
}

// One LIST-STATUS for every folder: sizes to start the longest folder first (it bounds the whole
// copy), and UIDNEXT/UIDVALIDITY to leave alone the folders that received nothing since the last pass.
// With CONDSTORE, HIGHESTMODSEQ too: a delta pass then leaves alone the folders where no flag changed and nothing was expunged.
// Listed on a lane's reader where the server allows it, which then goes on reading folders.
async function listSource(sources: Pool<ImapFlow>, readers: Pool<FetchReader>, endpoint: ImapEndpoint, modseq: boolean): Promise<AccountListing> {
  const raw = await rawListing(endpoint, () => readers.use((reader) => listAccount(reader, [...STATUS_ITEMS, ...(modseq && reader.capabilities.has('CONDSTORE') ? ['HIGHESTMODSEQ'] : [])])));
  return raw ?? listWithStatus(sources, readers, endpoint, modseq);
}

// The destination's folders, on the session that then creates the missing ones and appends.
async function listDest(dests: Pool<ImapFlow>, appenders: Pool<PipelinedAppender>, endpoint: ImapEndpoint, stallSeconds: number): Promise<AccountListing> {
  const raw = await rawListing(endpoint, () => appenders.use((appender) => FetchReader.over(appender, endpoint.host, stallSeconds * 1000, (reader) => listAccount(reader))));
  return raw ?? dests.use(async (client) => {
    const folders = await listFolders(client);
    return { namespace: namespaceOf(client, folders), folders };
  });
}

async function listWithStatus(sources: Pool<ImapFlow>, readers: Pool<FetchReader>, endpoint: ImapEndpoint, modseq: boolean): Promise<AccountListing> {
  let reader: Promise<FetchReader> | undefined;
  let namespace: AccountListing['namespace'] | undefined;
  const entries = await sources.use(async (client) => {
    try {
      if (client.capabilities.has('LIST-STATUS')) {
        const folders = await listFolders(client, modseq && client.capabilities.has('CONDSTORE') ? { ...STATUS_QUERY, highestModseq: true } : STATUS_QUERY);
        namespace = namespaceOf(client, folders);
        return folders;
      }
      // Without LIST-STATUS (Courier, GNU imap4d) each folder needs a STATUS, which imapflow sends one
      // round trip at a time. A reader of the lanes logs in while the folders are listed and sends them all at once.
      reader = readers.acquire();
      reader.catch(() => undefined);
      const folders = await listFolders(client);
      namespace = namespaceOf(client, folders);
      return folders;
    } catch (err) {
      throw protocolFault(client, endpoint.host) ?? err;
    }
  });
  const listing = { namespace: namespace!, folders: entries };
  if (!reader) return listing;
  // Awaited once the listing session is back in its pool: under a host cap of one, that session is what the reader waits for.
  const session = await reader.catch(() => undefined);
  const wanted = entries.filter((e) => !e.flags.has('\\Noselect') && !e.flags.has('\\NonExistent'));
  let answered = new Map<string, Record<string, number>>();
  if (session) {
    let healthy = false;
    try {
      answered = await session.statuses(wanted.map((e) => e.pathAsListed));
      healthy = true;
    } finally {
      readers.release(session, healthy);
    }
  }
  const unanswered = wanted.filter((e) => !answered.has(e.pathAsListed));
  // A server that refuses the extra login, or some STATUS, answers them one by one.
  if (unanswered.length) await sources.use(async (client) => { for (const entry of unanswered) entry.status = (await client.status(entry.path, STATUS_QUERY)) || undefined; });
  for (const entry of wanted) {
    const items = answered.get(entry.pathAsListed);
    if (items) entry.status = { path: entry.path, messages: items.MESSAGES, uidNext: items.UIDNEXT, uidValidity: items.UIDVALIDITY === undefined ? undefined : BigInt(items.UIDVALIDITY) } as ListResponse['status'];
  }
  return listing;
}

const STATUS_QUERY = { messages: true, uidNext: true, uidValidity: true };
const STATUS_ITEMS = ['MESSAGES', 'UIDNEXT', 'UIDVALIDITY'];

function folderStatuses(listed: ListResponse[]): Map<string, FolderStatus> {
  return new Map(listed.map((f) => [f.path, {
    messages: f.status?.messages ?? 0, uidNext: Number(f.status?.uidNext ?? 0), uidValidity: String(f.status?.uidValidity ?? ''), known: typeof f.status?.messages === 'number',
  }]));
}

const MESSAGES_PER_EXTRA_LANE = 50;

/**
 * Messages the source holds beyond the last pass's checkpoints, from the LIST-STATUS figures. A
 * folder under a new UIDVALIDITY counts for none: the ledger recognises its messages from their
 * headers (delta/adopt.ts), so it is a re-run's normal case on GNU imap4d, not a copy.
 */
function expectedMessages(active: FolderPlanEntry[], statuses: Map<string, FolderStatus>, checkpoints: Map<string, Checkpoint | undefined>): number {
  let expected = 0;
  for (const entry of active) {
    const status = statuses.get(entry.source);
    const checkpoint = checkpoints.get(entry.source);
    if (!status) continue;
    expected += !checkpoint ? status.messages : status.uidValidity === checkpoint.uidValidity ? Math.max(0, status.uidNext - checkpoint.uidNext) : 0;
  }
  return expected;
}

function isUnchanged(status: FolderStatus | undefined, checkpoint: Checkpoint): boolean {
  return status !== undefined && status.uidValidity === checkpoint.uidValidity && status.uidNext > 0 && status.uidNext <= checkpoint.uidNext;
}
