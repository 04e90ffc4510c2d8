import type { FetchMessageObject, ImapFlow } from 'imapflow';
import { crashpoint } from '../crashpoint.ts';
import type { Logger } from '../log.ts';
import type { ByteBudget } from './budget.ts';
import { fingerprint, headerBytes } from './fingerprint.ts';
import type { FolderPlanEntry } from './folders.ts';
import { mapImapError } from './imap.ts';
import type { LedgerBuffer } from './ledger-buffer.ts';
import type { LedgerStore } from './ledger.ts';
import type { ConnectionPool } from './pool.ts';
import { AsyncQueue } from './queue.ts';
import { isTransient, laneBackoffMs } from './transient.ts';

export interface Selection { maxMessageBytes?: number; since?: Date }

export interface FolderReport {
  source: string;
  dest: string;
  copied: number;
  copiedBytes: number;
  /** Already on the destination though not in the ledger (crash, lost ledger): recorded, not appended. */
  matched: number;
  skipped: number;
  skippedBytes: number;
  failed: number;
  /** Flags and keywords the destination folder does not accept, dropped from the copies. */
  droppedFlags: string[];
  reconnects: number;
}

export interface LaneContext {
  sources: ConnectionPool;
  dests: ConnectionPool;
  destHost: string;
  ledger: LedgerStore;
  buffer: LedgerBuffer;
  budget: ByteBudget;
  pass: number;
  selection: Selection;
  dryRun: boolean;
  log?: Logger;
  onProgress?: (folder: FolderReport) => void;
}

const MAX_LANE_ATTEMPTS = 6;
const FETCH_BATCH_MESSAGES = 500;
const FETCH_BATCH_BYTES = 64 * 1024 * 1024;

type Listed = Pick<FetchMessageObject, 'uid' | 'size' | 'internalDate'>;

export function emptyReport(entry: FolderPlanEntry): FolderReport {
  return { source: entry.source, dest: entry.dest, copied: 0, copiedBytes: 0, matched: 0, skipped: 0, skippedBytes: 0, failed: 0, droppedFlags: [], reconnects: 0 };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Copies one folder: a source connection EXAMINEs it and streams message bodies into a queue,
 * a destination connection with nothing selected APPENDs them in source order. A lost connection
 * restarts the lane after a pause; the ledger and the fingerprints make the restart resume
 * exactly where the copy stood.
 */
export async function copyFolderLane(entry: FolderPlanEntry, ctx: LaneContext): Promise<FolderReport> {
  const report = emptyReport(entry);
  for (let attempt = 1; ; attempt++) {
    try {
      await runLane(entry, ctx, report);
      await ctx.buffer.flush();
      return report;
    } catch (err) {
      await ctx.buffer.flush();
      if (!isTransient(err) || attempt >= MAX_LANE_ATTEMPTS) throw mapImapError(err, ctx.destHost, `copy of ${entry.source}`);
      report.reconnects++;
      ctx.log?.warn({ folder: entry.source, attempt, err: (err as Error).message }, 'connection lost; resuming the folder');
      await sleep(laneBackoffMs(err, attempt));
    }
  }
}

async function runLane(entry: FolderPlanEntry, ctx: LaneContext, report: FolderReport): Promise<void> {
  const source = await ctx.sources.acquire();
  let sourceHealthy = false;
  try {
    const lock = await source.getMailboxLock(entry.source, { readOnly: true });
    try {
      const pending = await pendingMessages(source, entry, ctx, report);
      if (pending.messages.length && !ctx.dryRun) await transfer(source, entry, pending.uidValidity, pending.messages, ctx, report);
    } finally {
      lock.release();
    }
    sourceHealthy = true;
  } finally {
    ctx.sources.release(source, sourceHealthy);
  }
}

async function pendingMessages(source: ImapFlow, entry: FolderPlanEntry, ctx: LaneContext, report: FolderReport): Promise<{ uidValidity: string; messages: Listed[] }> {
  const mailbox = source.mailbox;
  if (!mailbox || mailbox.exists === 0) return { uidValidity: String(mailbox ? mailbox.uidValidity : 0), messages: [] };
  const uidValidity = String(mailbox.uidValidity);
  const handled = await ctx.ledger.handledUids(entry.source, uidValidity);
  const messages: Listed[] = [];
  for await (const msg of source.fetch('1:*', { uid: true, size: true, internalDate: true }, { uid: true })) {
    if (handled.has(msg.uid)) continue;
    const reason = unselectedReason(msg, ctx.selection);
    if (!reason) { messages.push({ uid: msg.uid, size: msg.size, internalDate: msg.internalDate }); continue; }
    if (!ctx.dryRun) await ctx.ledger.skip({ sourceFolder: entry.source, uidValidity, uid: msg.uid, size: msg.size ?? 0, kind: reason.kind, reason: reason.text });
    report.skipped++;
    report.skippedBytes += msg.size ?? 0;
  }
  if (ctx.dryRun) {
    report.copied += messages.length;
    report.copiedBytes += messages.reduce((n, m) => n + (m.size ?? 0), 0);
  }
  return { uidValidity, messages };
}

interface Fetched { msg: FetchMessageObject; size: number }

async function transfer(source: ImapFlow, entry: FolderPlanEntry, uidValidity: string, messages: Listed[], ctx: LaneContext, report: FolderReport): Promise<void> {
  const dest = await ctx.dests.acquire();
  let destHealthy = false;
  const queue = new AsyncQueue<Fetched>();
  const abort = new AbortController();
  try {
    const { alreadyThere, accepts } = await inspectDest(dest, entry, uidValidity, ctx.ledger);
    // The reader runs ahead of the writer as far as the byte budget allows, so the source
    // server reads the next message while the destination server stores the current one.
    const reader = (async () => {
      try {
        for (const batch of batches(messages)) {
          const uids = batch.map((m) => m.uid).join(',');
          for await (const msg of source.fetch(uids, { uid: true, flags: true, internalDate: true, size: true, source: true }, { uid: true })) {
            const size = msg.source?.length ?? 0;
            await ctx.budget.acquire(size, abort.signal);
            queue.push({ msg, size });
          }
        }
        queue.end();
      } catch (err) {
        queue.fail(err as Error);
        throw err;
      }
    })();
    try {
      for await (const { msg, size } of queue) {
        try {
          await copyMessage(dest, entry, msg, uidValidity, alreadyThere, accepts, ctx, report);
        } finally {
          ctx.budget.release(size);
        }
      }
    } catch (err) {
      abort.abort(err);
      for (const left of queue.drain()) ctx.budget.release(left.size);
      await reader.catch(() => undefined);
      throw err;
    }
    await reader;
    destHealthy = true;
  } finally {
    ctx.dests.release(dest, destHealthy);
  }
}

async function copyMessage(dest: ImapFlow, entry: FolderPlanEntry, msg: FetchMessageObject, uidValidity: string,
  alreadyThere: Map<string, number[]>, accepts: (flag: string) => boolean, ctx: LaneContext, report: FolderReport): Promise<void> {
  const content = msg.source!;
  const size = msg.size ?? content.length;
  const print = fingerprint(headerBytes(content), size, msg.internalDate);
  const base = { sourceFolder: entry.source, uidValidity, uid: msg.uid, destFolder: entry.dest, size, fingerprint: print, pass: ctx.pass };
  const matched = alreadyThere.get(print)?.shift();
  if (matched !== undefined) {
    await ctx.buffer.add({ ...base, destUid: matched });
    report.matched++;
    return;
  }
  const flags: string[] = [];
  for (const flag of msg.flags ?? []) {
    if (flag === '\\Recent') continue;
    if (accepts(flag)) flags.push(flag);
    else if (!report.droppedFlags.includes(flag)) report.droppedFlags.push(flag);
  }
  let result: { uid?: number } | false;
  try {
    result = await dest.append(entry.dest, content, flags, msg.internalDate);
  } catch (err) {
    const e = err as { responseStatus?: string; responseText?: string; serverResponseCode?: string; message: string };
    if (!isTransient(err) && (e.responseStatus === 'NO' || e.responseStatus === 'BAD' || e.serverResponseCode === 'APPENDLIMIT')) {
      await ctx.ledger.skip({ ...base, kind: 'refused', reason: e.responseText || e.message });
      report.failed++;
      return;
    }
    throw err;
  }
  crashpoint('copy:after-append');
  await ctx.buffer.add({ ...base, destUid: result && result.uid ? result.uid : null });
  report.copied++;
  report.copiedBytes += size;
  ctx.onProgress?.(report);
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

function* batches(messages: Listed[]): Generator<Listed[]> {
  let batch: Listed[] = [];
  let bytes = 0;
  for (const msg of messages) {
    if (batch.length && (batch.length >= FETCH_BATCH_MESSAGES || bytes + (msg.size ?? 0) > FETCH_BATCH_BYTES)) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(msg);
    bytes += msg.size ?? 0;
  }
  if (batch.length) yield batch;
}

/**
 * What the destination folder already holds that the ledger does not account for under this
 * source folder's current UIDVALIDITY (appended just before a crash, copied by a run whose
 * ledger is gone or under an older UIDVALIDITY, or there before the migration), by fingerprint;
 * and which flags the folder keeps (PERMANENTFLAGS).
 */
async function inspectDest(dest: ImapFlow, entry: FolderPlanEntry, uidValidity: string, ledger: LedgerStore) {
  const alreadyThere = new Map<string, number[]>();
  const known = await ledger.destUids(entry.dest, { sourceFolder: entry.source, uidValidity });
  // Read-write SELECT: under EXAMINE servers answer PERMANENTFLAGS () and the flag check would be blind.
  const lock = await dest.getMailboxLock(entry.dest);
  let permanent: Set<string> | undefined;
  try {
    permanent = dest.mailbox ? dest.mailbox.permanentFlags : undefined;
    if (dest.mailbox && dest.mailbox.exists > known.size) {
      for await (const msg of dest.fetch('1:*', { uid: true, size: true, internalDate: true, headers: true }, { uid: true })) {
        if (known.has(msg.uid) || !msg.headers) continue;
        const print = fingerprint(msg.headers, msg.size ?? 0, msg.internalDate);
        alreadyThere.set(print, [...(alreadyThere.get(print) ?? []), msg.uid]);
      }
    }
  } finally {
    lock.release();
  }
  // APPEND on imapflow 2.1.2 filters flags against the selected mailbox: leave none selected.
  await dest.mailboxClose();
  const accepts = (flag: string) => !permanent || permanent.size === 0 || permanent.has('\\*') || permanent.has(flag);
  return { alreadyThere, accepts };
}
