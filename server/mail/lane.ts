import type { ImapFlow } from 'imapflow';
import { crashpoint } from '../crashpoint.ts';
import { CutoverError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { ByteBudget } from './budget.ts';
import { fingerprint, headerBytes } from './fingerprint.ts';
import { headerHashIfEightBit, inspectDest, inspectDestOnSession, plainReadBack, readBack, storedCopy, storedFromLines, type Alteration, type AppendedCopy, type DestInspection, type StoredCopies } from './dest-folder.ts';
import type { FolderPlanEntry } from './folders.ts';
import { mapImapError } from './imap.ts';
import type { LedgerBuffer } from './ledger-buffer.ts';
import type { Checkpoint, LedgerEntry, LedgerStore } from './ledger.ts';
import type { Pool } from './pool.ts';
import type { PipelinedAppender } from './wire/appender.ts';
import type { AppendItem, AppendOutcome } from './wire/appender.ts';
import { isWritableFlag } from './wire/syntax.ts';
import { imapflowTarget, pipelinedTarget, type AppendTarget } from './writer.ts';
import { AsyncQueue } from './queue.ts';
import { SPOOL_ABOVE_BYTES, type Spool, type SpooledMessage } from './spool.ts';
import { isThrottle, isTransient, laneBackoffMs } from './transient.ts';
import { listAnnounced, unparsedLineFor, type FolderListing, type Listed } from './announced.ts';
import { adoptKnownCopies } from './delta/adopt.ts';
import { literalLimitFor, quoteLine } from './guard.ts';
import { BODY_ITEMS, FetchReader, LISTING_ITEMS, type FetchedMessage } from './wire/fetcher.ts';
import { uidSet } from './wire/syntax.ts';
import { Watchdog } from './watchdog.ts';
import { settleAll } from './settle.ts';

export interface Selection { maxMessageBytes?: number; since?: Date }

export interface FolderReport {
  source: string;
  dest: string;
  /**
   * Messages the source announced (EXISTS, the UIDs it named) that earlier passes had not already
   * accounted for. After the pass: copied + matched + skipped + failed = announced.
   */
  announced: number;
  copied: number;
  copiedBytes: number;
  /** Already on the destination though not in the ledger (crash, lost ledger): recorded, not appended. */
  matched: number;
  skipped: number;
  skippedBytes: number;
  /** Refused by the destination, or unreadable on the source; tried again on the next pass. */
  failed: number;
  /** The failed messages with the server's words (the first 1,000 of a folder). */
  failures: Array<{ uid: number; reason: string }>;
  /** Flags and keywords the destination folder does not accept, dropped from the copies. */
  droppedFlags: string[];
  /** Copies the destination stored otherwise than they were sent (read back after the pass), with what changed. */
  altered: Alteration[];
  reconnects: number;
}

export interface LaneContext {
  spool: Spool;
  /** Source sessions that read folders (our own FETCH reader, not imapflow: README "Client CPU"). */
  readers: Pool<FetchReader>;
  /** Destination sessions for folder inspection, and for appending where the server cannot pipeline. */
  dests: Pool<ImapFlow>;
  appenders: Pool<PipelinedAppender>;
  /** Settles once the destination folder exists (its CREATE may still be on its way). */
  destReady: (folder: string) => Promise<void>;
  sourceHost: string;
  destHost: string;
  /** A folder with no message moving for this long (reconnects included) stops the pass. */
  stallMs: number;
  ledger: LedgerStore;
  buffer: LedgerBuffer;
  budget: ByteBudget;
  pass: number;
  selection: Selection;
  dryRun: boolean;
  log?: Logger;
  onProgress?: (folder: FolderReport) => void;
  /** Aborted when another folder failed the pass: this one's connections are cut and it stops without retrying. */
  stop?: AbortSignal;
}

const MAX_LANE_ATTEMPTS = 6;
/**
 * A throttled folder (Exchange's "Suggested Backoff Time", "Server Unavailable") waits as told and
 * resumes, this many times and this long at most, before the pass gives up with IMAP_THROTTLED.
 * The FetchReader does not retry by itself: a round is one refusal (on login, EXAMINE or FETCH), waited
 * out here with the folder's watchdog paused. Exchange suggests up to 5 minutes per refusal.
 */
const MAX_THROTTLED_ATTEMPTS = 5;
const THROTTLE_BUDGET_MS = 60 * 60 * 1000;
const FETCH_BATCH_MESSAGES = 200;
const FETCH_BATCH_BYTES = 8 * 1024 * 1024;

const MAX_LISTED_FAILURES = 1000;

export function emptyReport(entry: FolderPlanEntry): FolderReport {
  return { source: entry.source, dest: entry.dest, announced: 0, copied: 0, copiedBytes: 0, matched: 0, skipped: 0, skippedBytes: 0, failed: 0, failures: [], droppedFlags: [], altered: [], reconnects: 0 };
}

/** What one folder's copy holds on to across its attempts: the watchdog, and the connections it may have to cut. */
interface LaneRun { watchdog: Watchdog; attempt: number; open: Set<{ close(): void }> }

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Copies one folder: a source connection EXAMINEs it and streams message bodies into a queue,
 * a destination connection with nothing selected APPENDs them in source order. A lost connection
 * restarts the lane after a pause; the ledger and the fingerprints make the restart resume
 * exactly where the copy stood.
 */
/**
 * `listed` is the folder's STATUS from the pass's listing, taken before the lane opened it: its
 * UIDNEXT is the checkpoint for a server that announces none on EXAMINE (Courier), so the next
 * pass leaves the folder alone when nothing arrived. It is older than the lane's own view, so it
 * never points past a message the lane did not see.
 */
export async function copyFolderLane(entry: FolderPlanEntry, ctx: LaneContext, checkpoint?: Checkpoint, listed?: Checkpoint): Promise<FolderReport> {
  const report = emptyReport(entry);
  const open = new Set<{ close(): void }>();
  // A stall cuts the lane's connections: the command that waits settles, and the lane stops.
  const cut = () => { for (const c of open) c.close(); };
  const run: LaneRun = { watchdog: new Watchdog(ctx.stallMs, cut), attempt: 0, open };
  ctx.stop?.addEventListener('abort', cut);
  const throttle = { times: 0, since: 0 };
  try {
    for (let attempt = 1; ; attempt++) {
      run.attempt = attempt;
      try {
        await runLane(entry, ctx, report, run, checkpoint, listed);
        await ctx.buffer.flush();
        return report;
      } catch (err) {
        await ctx.buffer.flush();
        if (run.watchdog.fired) throw stalled(ctx, entry, report, err);
        if (ctx.stop?.aborted) throw ctx.stop.reason;
        if (isThrottled(err)) {
          // The server answered "later": not a stall and not a lost connection. Wait as told, resume.
          throttle.times++;
          throttle.since ||= Date.now();
          if (throttle.times > MAX_THROTTLED_ATTEMPTS || Date.now() - throttle.since > THROTTLE_BUDGET_MS) throw throttled(ctx, entry, throttle, err);
          report.reconnects++;
          ctx.log?.warn({ folder: entry.source, times: throttle.times, err: (err as Error).message }, 'throttled by the server; waiting before resuming the folder');
          await run.watchdog.paused(() => sleep(laneBackoffMs(err, throttle.times)));
          run.watchdog.progress();
          attempt--;
          continue;
        }
        if (!retryable(err) || attempt >= MAX_LANE_ATTEMPTS) throw mapImapError(err, ctx.destHost, `copy of ${entry.source}`);
        const pause = laneBackoffMs(err, attempt);
        // Reconnecting again and again without a message moving is a stall too.
        if (run.watchdog.idleMs() + pause >= ctx.stallMs) throw stalled(ctx, entry, report, err);
        report.reconnects++;
        ctx.log?.warn({ folder: entry.source, attempt, err: (err as Error).message }, 'connection lost; resuming the folder');
        await sleep(pause);
      }
    }
  } finally {
    ctx.stop?.removeEventListener('abort', cut);
    run.watchdog.stop();
  }
}

// A login the network cut half-way ("Unexpected close") comes wrapped as a failed login: the lane
// retries it like any lost connection.
function retryable(err: unknown): boolean {
  return isTransient(err) || (err instanceof CutoverError && err.code === 'IMAP_FAILED' && isTransient(err.cause));
}

// A throttled login (Exchange's "Server Unavailable. 15" before or after LOGIN) comes wrapped the same way.
function isThrottled(err: unknown): boolean {
  return isThrottle(err) || (err instanceof CutoverError && err.code === 'IMAP_FAILED' && isThrottle(err.cause));
}

function throttled(ctx: LaneContext, entry: FolderPlanEntry, throttle: { times: number; since: number }, last: unknown): CutoverError {
  const cause = last instanceof CutoverError && last.cause ? last.cause : last;
  const e = cause as { responseText?: string; message?: string; host?: string };
  // A login names its host (mapImapError), an APPEND its destination (throwIfTransient); a FETCH is the source's.
  const host = (last instanceof CutoverError && last.params.host ? String(last.params.host) : undefined) ?? e.host ?? ctx.sourceHost;
  return new CutoverError('IMAP_THROTTLED', {
    host, during: `folder "${entry.source}"`, attempts: throttle.times, seconds: Math.round((Date.now() - throttle.since) / 1000), detail: quoteLine(e.responseText || e.message || ''),
  }, { retryable: true, cause: last });
}

function stalled(ctx: LaneContext, entry: FolderPlanEntry, report: FolderReport, last: unknown): CutoverError {
  const reconnects = report.reconnects ? `, after ${report.reconnects} reconnect(s) (last: ${(last as Error).message})` : '';
  return new CutoverError('IMAP_STALLED', { host: ctx.sourceHost, seconds: Math.round(ctx.stallMs / 1000), during: `in folder "${entry.source}"${reconnects}` }, { retryable: true, cause: last });
}

async function runLane(entry: FolderPlanEntry, ctx: LaneContext, report: FolderReport, run: LaneRun, checkpoint: Checkpoint | undefined, listed: Checkpoint | undefined): Promise<void> {
  const source = await run.watchdog.paused(() => ctx.readers.acquire());
  run.open.add(source);
  let released = false;
  // The source connection goes back to the pool once the folder has been read, before the last
  // appends: the next folder's reader can use it meanwhile.
  const releaseSource = (healthy: boolean) => {
    if (released) return;
    released = true;
    run.open.delete(source);
    ctx.readers.release(source, healthy);
  };
  // Failures are found again by each attempt (they are retried); what earlier attempts copied,
  // matched or skipped is in the ledger and not listed again.
  report.failed = 0;
  report.failures = [];
  report.announced = report.copied + report.matched + report.skipped;
  // The appender the destination's inspection runs on, then the appends (taken by the transfer).
  let lease: AppenderLease | undefined;
  let healthy = false;
  let early: EarlyListing | undefined;
  let inspection: Promise<Inspection> | undefined;
  try {
    // A delta in a folder whose STATUS (the pass's listing) kept the checkpoint's UIDVALIDITY and
    // counts new messages: the new messages are listed in the EXAMINE's round trip. A listing the
    // EXAMINE contradicts is thrown away (GNU imap4d may hand out a new UIDVALIDITY in between);
    // the destination is not opened before the EXAMINE has said which generation this is.
    const foresee = !ctx.dryRun && checkpoint && listed && listed.uidValidity === checkpoint.uidValidity && listed.uidNext > checkpoint.uidNext;
    const retry = foresee ? await retriedUids(ctx, entry, checkpoint.uidNext) : [];
    const opening = source.examine(entry.source);
    if (foresee) {
      early = { uidValidity: checkpoint.uidValidity, listing: listAnnounced(source, ctx.sourceHost, checkpoint.uidNext, retry, listingProgress(run), false, opening) };
      early.listing.catch(() => undefined);
    }
    const mailbox = await opening;
    const uidValidity = mailbox.uidValidity;
    if (early && early.uidValidity !== uidValidity) {
      await early.listing.catch(() => undefined);
      early = undefined;
    }
    // Courier's EXAMINE announces no UIDNEXT: the listing's STATUS (taken before) is the checkpoint then.
    const uidNext = mailbox.uidNext || (listed?.uidValidity === uidValidity ? listed.uidNext : 0);
    // Under a new UIDVALIDITY the ledger usually recognises every message from the listing: the
    // destination is looked at only for what it does not. Otherwise the inspection starts before
    // the source's new messages are even listed: selecting a large destination folder can take as
    // long as fetching a small delta.
    const rekey = Boolean(checkpoint && checkpoint.uidValidity !== uidValidity && ctx.ledger.delta);
    const inspect = () => {
      if (ctx.dryRun || mailbox.exists === 0) return undefined;
      lease ??= leaseAppender(ctx, run);
      const started = ctx.destReady(entry.dest).then(() => inspectFolder(ctx, entry, uidValidity, lease!, () => run.watchdog.progress()));
      started.catch(() => undefined);
      return started;
    };
    if (!rekey) inspection = inspect();
    let complete = true;
    try {
      const pending = await pendingMessages(source, entry, ctx, report, run, checkpoint, rekey, early);
      complete = pending.complete;
      if (pending.messages.length) inspection ??= inspect();
      if (pending.messages.length && inspection) await transfer(source, entry, pending.uidValidity, pending.messages, inspection, lease, () => releaseSource(true), ctx, report, run);
    } finally {
      await inspection?.catch(() => undefined);
    }
    healthy = true;
    releaseSource(true);
    // Messages the server counted but never named cannot be retried by UID: the next pass lists the whole folder again.
    if (!ctx.dryRun && uidNext > 0 && complete) {
      await ctx.buffer.flush();
      await ctx.ledger.saveCheckpoint(entry.source, { uidValidity, uidNext });
    }
  } finally {
    // A failed EXAMINE fails the FETCH sent behind it, and the inspection begun beside it is not left running.
    await Promise.allSettled([early?.listing, inspection]);
    releaseSource(false);
    // Its inspection has settled: nothing runs on it any more.
    lease?.end(healthy);
  }
}

/** The new messages' listing, sent right behind the EXAMINE under the UIDVALIDITY the checkpoint has. */
interface EarlyListing { uidValidity: string; listing: Promise<FolderListing> }

// A retried attempt lists what it already listed: only new messages count as progress then.
const listingProgress = (run: LaneRun) => () => { if (run.attempt === 1) run.watchdog.progress(); };

/** UIDs below `from` that the destination refused on an earlier pass: listed again to be retried. */
async function retriedUids(ctx: LaneContext, entry: FolderPlanEntry, from: number): Promise<number[]> {
  return from > 1 ? (await ctx.ledger.refusedUids(entry.source)).filter((uid) => uid < from) : [];
}

/**
 * The lane's appender, taken from the pool when the destination's inspection starts and kept for
 * the appends: a lane never holds one appender while it waits for another (at the pool's cap,
 * with a lane's inspection queued behind its own appends, that would wait for ever). It is in the
 * lane's open connections from the moment it is acquired, so a stall or a stopped pass cuts it,
 * inspection included. Whoever takes it (the transfer) gives it back; otherwise `end` does.
 */
interface AppenderLease {
  /** The appender, for the inspection. */
  readonly appender: Promise<PipelinedAppender>;
  /** The appender for the appends, which give it back to the pool themselves (a fresh one if the lease was ended). */
  take(): Promise<PipelinedAppender>;
  /** Gives the appender back to the pool unless it was taken. */
  end(healthy: boolean): void;
  /** True once `end` gave the appender back (the imapflow path: the appender did not pipeline). */
  readonly ended: boolean;
}

function leaseAppender(ctx: LaneContext, run: LaneRun): AppenderLease {
  let taken = false;
  let ended = false;
  const appender = ctx.appenders.acquire();
  appender.then((a) => run.open.add(a), () => undefined);
  return {
    appender,
    get ended() { return ended; },
    take: () => {
      if (ended) return ctx.appenders.acquire();
      taken = true;
      return appender;
    },
    end: (healthy) => {
      if (taken || ended) return;
      ended = true;
      appender.then((a) => { run.open.delete(a); ctx.appenders.release(a, healthy); }, () => undefined);
    },
  };
}

/**
 * Waits for the destination's inspection. On the lane's own appender only the wait for that
 * appender (the pool) is not a stall: the server's answers are watched like any other, so a
 * destination that falls silent during the SELECT stops the folder after the stall timeout. With
 * the watchdog paused for it all, the silence surfaced only as the connection's own timeout, a
 * lost connection the lane retried, and the new login waited a second stall timeout (30 s, not 15).
 * Through imapflow (no pipelining), its login and pool wait included, the watchdog stays paused.
 */
async function awaitInspection(run: LaneRun, lease: AppenderLease | undefined, inspection: Promise<Inspection>): Promise<Inspection> {
  const appender = lease && !lease.ended ? await run.watchdog.paused(() => lease.appender) : undefined;
  if (!appender?.pipelines) return run.watchdog.paused(() => inspection);
  return inspection;
}

/**
 * The destination folder's inspection on the lane's appender when it pipelines (already logged
 * in: no login of its own); through imapflow otherwise, the appender then going back to the pool.
 */
async function inspectFolder(ctx: LaneContext, entry: FolderPlanEntry, uidValidity: string, lease: AppenderLease, progress: () => void): Promise<DestInspection> {
  const appender = await lease.appender;
  if (!appender.pipelines) {
    lease.end(true);
    return ctx.dests.use((dest) => inspectDest(dest, entry, uidValidity, ctx.ledger));
  }
  return FetchReader.over(appender, ctx.destHost, ctx.stallMs, (reader) => inspectDestOnSession(reader, entry, uidValidity, ctx.ledger, progress));
}

/** A message the pass could not copy: on the skip list (tried again next pass) and in the report, with the server's words. */
async function fail(ctx: LaneContext, report: FolderReport, entry: { sourceFolder: string; uidValidity: string; uid: number; size: number }, reason: string): Promise<void> {
  if (!ctx.dryRun) await ctx.ledger.skip({ ...entry, kind: 'refused', reason });
  report.failed++;
  if (report.failures.length < MAX_LISTED_FAILURES) report.failures.push({ uid: entry.uid, reason });
}

// Only UIDs from the last complete pass on (under the same UIDVALIDITY) can be new: a delta pass
// costs what changed, not the size of the folder.
async function pendingMessages(source: FetchReader, entry: FolderPlanEntry, ctx: LaneContext, report: FolderReport, run: LaneRun, checkpoint: Checkpoint | undefined, rekey: boolean,
  early: EarlyListing | undefined): Promise<{ uidValidity: string; messages: Listed[]; complete: boolean }> {
  const mailbox = source.mailbox;
  if (mailbox.exists === 0) return { uidValidity: mailbox.uidValidity, messages: [], complete: true };
  const uidValidity = mailbox.uidValidity;
  const from = checkpoint && checkpoint.uidValidity === uidValidity ? checkpoint.uidNext : 1;
  const [handled, retry] = await Promise.all([ctx.ledger.handledUids(entry.source, uidValidity, from), early ? [] : retriedUids(ctx, entry, from)]);
  const listing = early ? await early.listing : await listAnnounced(source, ctx.sourceHost, from, retry, listingProgress(run), rekey);
  const adopted = rekey ? await adoptKnownCopies(ctx.ledger.delta!, entry, uidValidity, listing.messages.filter((m) => !handled.has(m.uid)), ctx.dryRun) : new Set<number>();
  const messages: Listed[] = [];
  for (const msg of listing.messages) {
    if (handled.has(msg.uid)) continue;
    report.announced++;
    if (adopted.has(msg.uid)) {
      report.matched++;
      continue;
    }
    const reason = unselectedReason(msg, ctx.selection);
    if (!reason) { messages.push(msg); continue; }
    if (!ctx.dryRun) await ctx.ledger.skip({ sourceFolder: entry.source, uidValidity, uid: msg.uid, size: msg.size ?? 0, kind: reason.kind, reason: reason.text });
    report.skipped++;
    report.skippedBytes += msg.size ?? 0;
  }
  for (const { uid, reason } of listing.unreadable) {
    if (handled.has(uid)) continue;
    report.announced++;
    await fail(ctx, report, { sourceFolder: entry.source, uidValidity, uid, size: 0 }, reason);
  }
  if (listing.unnamed) {
    // Counted by the server, named nowhere: nothing to put on the skip list, but the pass is not complete.
    report.announced += listing.unnamed;
    report.failed += listing.unnamed;
    report.failures.push({ uid: 0, reason: `the source server announced ${mailbox.exists} messages (EXISTS) but named ${mailbox.exists - listing.unnamed} UIDs` });
  }
  if (ctx.dryRun) {
    report.copied += messages.length;
    report.copiedBytes += messages.reduce((n, m) => n + (m.size ?? 0), 0);
  }
  return { uidValidity, messages, complete: listing.unnamed === 0 };
}

/** A message on its way: in memory (`msg.source`) or in a spool file. `size` is its share of the byte budget. */
interface Fetched { msg: Listed & Pick<FetchedMessage, 'source'>; size: number; spooled?: SpooledMessage }

const SPOOLED_RESERVATION = 2 * 1024 * 1024;

const BATCH_BYTES = 16 * 1024 * 1024;
/** FETCH answers the read-back keeps beyond the messages appended: mail delivered meanwhile. */
const READ_BACK_SLACK = 1000;

type Inspection = DestInspection;

async function transfer(source: FetchReader, entry: FolderPlanEntry, uidValidity: string, messages: Listed[], inspection: Promise<Inspection>, lease: AppenderLease | undefined,
  sourceDone: () => void, ctx: LaneContext, report: FolderReport, run: LaneRun): Promise<void> {
  const queue = new AsyncQueue<Fetched>();
  const abort = new AbortController();
  const notReturned = (msg: Listed, reason: string) => fail(ctx, report, { sourceFolder: entry.source, uidValidity, uid: msg.uid, size: msg.size ?? 0 }, reason);
  // The reader runs ahead of the writer as far as the byte budget allows, so the source
  // server reads the next messages while the destination server stores the current ones.
  const reader = (async () => {
    try {
      for (const batch of batches(messages)) {
        if (batch.large) {
          await run.watchdog.paused(() => ctx.budget.acquire(SPOOLED_RESERVATION, abort.signal));
          source.takeUnparsedLines();
          // Each chunk of a large message is progress: a slow download is not a stall.
          const spooled = await ctx.spool.fromReader(source, batch.large.uid, batch.large.size ?? 0, () => run.watchdog.progress());
          if (spooled) {
            run.watchdog.progress();
            queue.push({ msg: batch.large, size: SPOOLED_RESERVATION, spooled });
          } else {
            ctx.budget.release(SPOOLED_RESERVATION);
            await notReturned(batch.large, notReturnedReason(batch.large.uid, source.takeUnparsedLines()));
          }
          continue;
        }
        // Reserved before the FETCH goes out: what imapflow buffers while parsing counts too.
        await run.watchdog.paused(() => ctx.budget.acquire(batch.bytes, abort.signal));
        const reserved = new Map(batch.messages.map((m) => [m.uid, m.size ?? 0]));
        const largest = batch.messages.reduce((n, m) => Math.max(n, m.size ?? 0), 0);
        source.takeUnparsedLines();
        try {
          const uids = batch.messages.map((m) => m.uid).join(',');
          // A literal is allowed what the server announced for the message (RFC822.SIZE), not 1 GB.
          await source.fetch(uids, BODY_ITEMS, {
            literalLimit: literalLimitFor(largest),
            onMessage: (msg) => {
              // Only answers to this command count, once each: an unsolicited FETCH (another client
              // changed a flag) and a UID the server repeats are not messages to store.
              if (msg.uid === undefined || !reserved.has(msg.uid) || !msg.source) return;
              queue.push({ msg: msg as Fetched['msg'], size: reserved.get(msg.uid)! });
              reserved.delete(msg.uid);
              run.watchdog.progress();
            },
          });
          const unparsed = source.takeUnparsedLines();
          for (const msg of batch.messages) if (reserved.has(msg.uid)) await notReturned(msg, notReturnedReason(msg.uid, unparsed));
        } finally {
          // What the server did not return gives its share of the budget back.
          for (const size of reserved.values()) ctx.budget.release(size);
        }
      }
      queue.end();
      sourceDone();
    } catch (err) {
      queue.fail(err as Error);
      throw err;
    }
  })();
  // The writer learns of a reader failure through the queue; the rejection itself is awaited
  // below, but may happen while the writer still waits on an APPEND, before anyone listens.
  reader.catch(() => undefined);
  const appended: AppendedCopy[] = [];
  let listedAfter: Promise<string[] | undefined> | undefined;
  let listed: string[] | undefined;
  try {
    await withAppendTarget(ctx, run, lease, async (target) => {
      const { alreadyThere, accepts, uidNext } = await awaitInspection(run, lease, inspection);
      let sent = 0;
      // One APPEND may wait for its answer while the next is sent: a lane does not wait a round trip
      // between two batches (the first batch of a delta goes out with the first messages read).
      let previous: Promise<void> | undefined;
      try {
        for (;;) {
          const batch = await queue.nextBatch(target.maxBatch, BATCH_BYTES, (f) => f.size);
          if (!batch) {
            // The read-back goes right behind the last APPEND: no round trip of its own.
            if (sent && uidNext > 0 && target.listAfter) listedAfter = (await target.listAfter(entry.dest, uidNext, sent + READ_BACK_SLACK)).lines;
            break;
          }
          sent += batch.length;
          let answered: Promise<void>;
          try {
            ({ answered } = await writeBatch(target, entry, batch, uidValidity, alreadyThere, accepts, ctx, report, appended));
          } catch (err) {
            await finish(batch, ctx);
            throw err;
          }
          const settled = answered.then(() => run.watchdog.progress()).finally(() => finish(batch, ctx));
          settled.catch(() => undefined);
          if (previous) await previous;
          previous = settled;
        }
        await previous;
        // Read before the appender goes back to the pool: the next user must not meet its answers.
        listed = await listedAfter?.catch(() => undefined);
      } finally {
        await previous?.catch(() => undefined);
      }
    });
    // What this attempt appended, as the destination stored it: one FETCH per folder, sent behind
    // the last APPEND where it could be; otherwise (a copy it does not show) sent again on its own.
    const { uidNext } = await inspection;
    if (appended.length) {
      const plain = (listed && plainReadBack(appended, storedFromLines(listed))) ?? await readBackOnAppender(ctx, run, entry.dest, appended);
      report.altered.push(...plain ?? await run.watchdog.paused(() => ctx.dests.use((dest) => readBack(dest, entry.dest, appended, uidNext))));
    }
  } catch (err) {
    abort.abort(err);
    await finish(queue.drain(), ctx);
    await reader.catch(() => undefined);
    // The reader ends the FETCH under way before it sees the failure: what it queued meanwhile
    // holds its share of the byte budget too. Left there, a lane retried after a throttled APPEND
    // waited for budget that no one would give back, its watchdog paused: the copy hung.
    await finish(queue.drain(), ctx);
    throw err;
  }
  await reader;
}

/**
 * The read-back's FETCH on an appending connection, read by our own FetchReader: through imapflow
 * it cost a fifth of a full copy's CPU. Undefined when the usual case does not hold (a copy without
 * a UID, an 8-bit header, flags not kept, a command refused): the imapflow read-back then checks it
 * all. Only the wait for the appender is not a stall: a destination silent after the appends stops
 * the folder after the stall timeout, and a lost connection is the lane's to handle, not a reason
 * to log in again through imapflow (which, paused, waited a second stall timeout on a silent server).
 */
async function readBackOnAppender(ctx: LaneContext, run: LaneRun, folder: string, appended: AppendedCopy[]): Promise<Alteration[] | undefined> {
  if (appended.some((a) => a.destUid === null || a.headerHash)) return undefined;
  const stored: StoredCopies = new Map();
  const appender = await run.watchdog.paused(() => ctx.appenders.acquire());
  run.open.add(appender);
  let healthy = false;
  try {
    await FetchReader.over(appender, ctx.destHost, ctx.stallMs, async (reader) => {
      // Sent together (one round trip): the EXAMINE changes what is selected, so the server runs it
      // first; after a refused EXAMINE the FETCH's answers are not used.
      const examining = reader.examine(folder).then(() => run.watchdog.progress());
      const fetching = reader.fetch(uidSet(appended.map((a) => a.destUid!)), LISTING_ITEMS, {
        onMessage: (m) => {
          run.watchdog.progress();
          if (m.uid !== undefined && !stored.has(m.uid)) stored.set(m.uid, storedCopy(m));
        },
      });
      await settleAll([examining, fetching]);
    });
    healthy = true;
  } catch (err) {
    if (!appender.usable || run.watchdog.fired || ctx.stop?.aborted) throw err;
    healthy = true;
    return undefined;
  } finally {
    run.open.delete(appender);
    ctx.appenders.release(appender, healthy);
  }
  return plainReadBack(appended, stored);
}

function notReturnedReason(uid: number, unparsed: string[]): string {
  const line = unparsedLineFor(uid, unparsed);
  return line ? `the source server's FETCH answer could not be read: ${quoteLine(line)}` : 'the source server did not return the message when asked for it (UID FETCH BODY.PEEK[])';
}

async function finish(done: Fetched[], ctx: LaneContext): Promise<void> {
  for (const f of done) {
    ctx.budget.release(f.size);
    if (f.spooled) await ctx.spool.remove(f.spooled);
  }
}

// The pipelined appender when the server allows it (LITERAL+ and MULTIAPPEND), imapflow otherwise.
async function withAppendTarget(ctx: LaneContext, run: LaneRun, lease: AppenderLease | undefined, work: (target: AppendTarget) => Promise<void>): Promise<void> {
  const appender = await run.watchdog.paused(() => lease ? lease.take() : ctx.appenders.acquire());
  if (appender.pipelines) {
    let healthy = false;
    run.open.add(appender);
    // A batch on its way (a large message on a slow link) is progress, chunk by chunk.
    appender.onActivity = () => run.watchdog.progress();
    try {
      await work(pipelinedTarget(appender));
      healthy = true;
    } finally {
      appender.onActivity = undefined;
      run.open.delete(appender);
      ctx.appenders.release(appender, healthy);
    }
    return;
  }
  run.open.delete(appender);
  ctx.appenders.release(appender, true);
  const dest = await run.watchdog.paused(() => ctx.dests.acquire());
  let healthy = false;
  run.open.add(dest);
  try {
    // One APPEND at a time, each watched by the connection's own timer with the upload's allowance:
    // the folder's watchdog does not count the time one takes.
    const target = imapflowTarget(dest, ctx.stallMs);
    const append: AppendTarget['append'] = (folder, items) => run.watchdog.paused(() => target.append(folder, items));
    await work({ maxBatch: target.maxBatch, append, send: async (folder, items) => ({ outcome: Promise.resolve(await append(folder, items)) }) });
    healthy = true;
  } finally {
    run.open.delete(dest);
    ctx.dests.release(dest, healthy);
  }
}

interface Pending { item: AppendItem; base: Omit<LedgerEntry, 'destUid'>; headerHash?: string }

/** Sends one batch's APPEND; returns once it is on its way, with `answered`, which settles when its answer has been recorded. */
async function writeBatch(target: AppendTarget, entry: FolderPlanEntry, fetched: Fetched[], uidValidity: string,
  alreadyThere: DestInspection['alreadyThere'], accepts: (flag: string) => boolean, ctx: LaneContext, report: FolderReport, appended: AppendedCopy[]): Promise<{ answered: Promise<void> }> {
  const pending: Pending[] = [];
  for (const { msg, spooled } of fetched) {
    const content = spooled ?? msg.source!;
    const size = msg.size ?? (spooled ? spooled.size : msg.source!.length);
    const header = headerBytes(spooled ? spooled.head : msg.source!);
    const print = fingerprint(header, size, msg.internalDate);
    const base = { sourceFolder: entry.source, uidValidity, uid: msg.uid, destFolder: entry.dest, size, fingerprint: print, pass: ctx.pass };
    // Matched on what servers keep (not the date, not the 8-bit bytes): see DestMatcher.
    const matched = alreadyThere.take(header, size, msg.internalDate);
    if (matched !== undefined) {
      await ctx.buffer.add({ ...base, destUid: matched });
      report.matched++;
      continue;
    }
    pending.push({ base, headerHash: headerHashIfEightBit(header), item: { content, flags: keptFlags(msg.flags, accepts, report), internalDate: msg.internalDate ? new Date(msg.internalDate) : undefined } });
  }
  if (!pending.length) return { answered: Promise.resolve() };
  const record = async (done: Pending[], uids: Array<number | null>) => {
    await recordAppended(done, uids, ctx, report);
    done.forEach((p, i) => appended.push({ sourceUid: p.base.uid, destUid: uids[i] ?? null, size: p.base.size, flags: p.item.flags, internalDate: p.item.internalDate, headerHash: p.headerHash }));
  };
  const sent = await target.send(entry.dest, pending.map((p) => p.item));
  const answered = (async () => {
    const outcome = await sent.outcome;
    if (outcome.ok) {
      await record(pending, outcome.uids);
      return;
    }
    throwIfTransient(outcome, ctx.destHost);
    await appendOneByOne(target, entry, pending, outcome, ctx, report, record);
  })();
  answered.catch(() => undefined); // awaited by the writer after the next batch is sent
  return { answered };
}

async function appendOneByOne(target: AppendTarget, entry: FolderPlanEntry, pending: Pending[], outcome: Exclude<AppendOutcome, { ok: true }>, ctx: LaneContext, report: FolderReport,
  record: (done: Pending[], uids: Array<number | null>) => Promise<void>): Promise<void> {
  // A batch is all or nothing: find the refused message(s) by sending them one by one.
  for (const one of pending) {
    const single = pending.length === 1 ? outcome : await target.append(entry.dest, [one.item]);
    if (single.ok) {
      await record([one], single.uids);
      continue;
    }
    throwIfTransient(single, ctx.destHost);
    await ctx.ledger.skip({ ...one.base, kind: 'refused', reason: `${single.status}${single.code ? ` [${single.code}]` : ''} ${single.text}`.trim() });
    report.failed++;
  }
}

async function recordAppended(appended: Pending[], uids: Array<number | null>, ctx: LaneContext, report: FolderReport): Promise<void> {
  for (const [i, one] of appended.entries()) {
    crashpoint('copy:after-append');
    await ctx.buffer.add({ ...one.base, destUid: uids[i] ?? null, flags: one.item.flags });
    report.copied++;
    report.copiedBytes += one.base.size;
  }
  ctx.onProgress?.(report);
}

function throwIfTransient(outcome: Exclude<AppendOutcome, { ok: true }>, host: string): void {
  const err = Object.assign(new Error(outcome.text), { responseStatus: outcome.status, responseText: outcome.text, serverResponseCode: outcome.code, host });
  if (isTransient(err)) throw err;
}

// \Recent is the server's own; flags the folder does not keep, or that are not valid atoms, are dropped and reported.
function keptFlags(source: Set<string> | undefined, accepts: (flag: string) => boolean, report: FolderReport): string[] {
  const flags: string[] = [];
  for (const flag of source ?? []) {
    if (flag === '\\Recent') continue;
    if (accepts(flag) && isWritableFlag(flag)) flags.push(flag);
    else if (!report.droppedFlags.includes(flag)) report.droppedFlags.push(flag);
  }
  return flags;
}

function unselectedReason(msg: Listed, selection: Selection): { kind: 'too-big' | 'excluded'; text: string } | undefined {
  if (selection.maxMessageBytes && (msg.size ?? 0) > selection.maxMessageBytes) {
    return { kind: 'too-big', text: `${msg.size} bytes is over the ${selection.maxMessageBytes}-byte limit` };
  }
  if (selection.since && msg.internalDate && new Date(msg.internalDate) < selection.since) {
    return { kind: 'excluded', text: `received before ${selection.since.toISOString().slice(0, 10)}` };
  }
  return undefined;
}

type Step = { large: Listed; messages?: undefined; bytes?: undefined } | { large?: undefined; messages: Listed[]; bytes: number };

// Consecutive small messages travel in FETCH batches; each large one goes alone through the spool.
// Source order is kept, so the destination's UIDs follow it.
function* batches(messages: Listed[]): Generator<Step> {
  let batch: Listed[] = [];
  let bytes = 0;
  for (const msg of messages) {
    const size = msg.size ?? 0;
    if (batch.length && (size > SPOOL_ABOVE_BYTES || batch.length >= FETCH_BATCH_MESSAGES || bytes + size > FETCH_BATCH_BYTES)) {
      yield { messages: batch, bytes };
      batch = [];
      bytes = 0;
    }
    if (size > SPOOL_ABOVE_BYTES) {
      yield { large: msg };
      continue;
    }
    batch.push(msg);
    bytes += size;
  }
  if (batch.length) yield { messages: batch, bytes };
}
