import type { ImapFlow, FetchMessageObject } from 'imapflow';
import { crashpoint } from '../crashpoint.ts';
import type { Logger } from '../log.ts';
import type { ImapEndpoint } from '../plugins/contract.ts';
import { fingerprint, headerBytes } from './fingerprint.ts';
import type { FolderPlanEntry } from './folders.ts';
import { closeQuietly, mapImapError, openImap } from './imap.ts';
import type { LedgerStore } from './ledger.ts';

export interface Selection { maxMessageBytes?: number; since?: Date }

export interface CopyProgress { folder: string; copied: number; bytes: number }

export interface CopyOptions {
  source: ImapEndpoint;
  dest: ImapEndpoint;
  plan: FolderPlanEntry[];
  ledger: LedgerStore;
  pass: number;
  selection?: Selection;
  log?: Logger;
  onProgress?: (progress: CopyProgress) => void;
}

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
}

export interface CopyReport { folders: FolderReport[]; copied: number; bytes: number; matched: number; skipped: number; failed: number; seconds: number }

const FETCH_BATCH_MESSAGES = 200;
const FETCH_BATCH_BYTES = 32 * 1024 * 1024;

/** Copies every selected message the ledger does not know yet; the same call is the full copy and every delta pass. */
export async function copyMailbox(options: CopyOptions): Promise<CopyReport> {
  const started = Date.now();
  let source: ImapFlow | undefined;
  let dest: ImapFlow | undefined;
  try {
    source = await openImap(options.source, options.log);
    dest = await openImap(options.dest, options.log);
    const active = options.plan.filter((entry) => !entry.excluded);
    await ensureDestFolders(dest, active, options.dest.host);
    const folders: FolderReport[] = [];
    for (const entry of active) {
      folders.push(entry.selectable ? await copyFolder(source, dest, entry, options) : emptyReport(entry));
    }
    return {
      folders,
      copied: sum(folders, 'copied'), bytes: sum(folders, 'copiedBytes'), matched: sum(folders, 'matched'), skipped: sum(folders, 'skipped'), failed: sum(folders, 'failed'),
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    await closeQuietly(source);
    await closeQuietly(dest);
  }
}

function sum(folders: FolderReport[], key: 'copied' | 'copiedBytes' | 'matched' | 'skipped' | 'failed'): number {
  return folders.reduce((total, f) => total + f[key], 0);
}

function emptyReport(entry: FolderPlanEntry): FolderReport {
  return { source: entry.source, dest: entry.dest, copied: 0, copiedBytes: 0, matched: 0, skipped: 0, skippedBytes: 0, failed: 0 };
}

async function ensureDestFolders(dest: ImapFlow, plan: FolderPlanEntry[], host: string): Promise<void> {
  const paths = new Map((await dest.list()).map((f) => [f.path, f]));
  for (const entry of plan) {
    if (entry.dest.toUpperCase() === 'INBOX') continue;
    const existing = paths.get(entry.dest);
    if (!existing) {
      try {
        await dest.mailboxCreate(entry.dest);
      } catch (err) {
        const e = err as { responseText?: string; serverResponseCode?: string };
        if (e.serverResponseCode !== 'ALREADYEXISTS') throw mapImapError(err, host, `CREATE ${entry.dest}`);
      }
    }
    // imapflow 2.1.2 subscribes every folder it creates; a folder that was already there keeps its state.
    const subscribed = existing ? Boolean(existing.subscribed) : true;
    if (entry.subscribed && !subscribed) await dest.mailboxSubscribe(entry.dest);
    if (!entry.subscribed && !existing) await dest.mailboxUnsubscribe(entry.dest);
  }
}

type Listed = Pick<FetchMessageObject, 'uid' | 'size' | 'internalDate'>;

async function copyFolder(source: ImapFlow, dest: ImapFlow, entry: FolderPlanEntry, options: CopyOptions): Promise<FolderReport> {
  const report = emptyReport(entry);
  const { ledger, selection = {} } = options;
  const lock = await source.getMailboxLock(entry.source, { readOnly: true });
  try {
    const mailbox = source.mailbox;
    if (!mailbox || mailbox.exists === 0) return report;
    const uidValidity = String(mailbox.uidValidity);
    const handled = await ledger.handledUids(entry.source, uidValidity);
    const pending: Listed[] = [];
    for await (const msg of source.fetch('1:*', { uid: true, size: true, internalDate: true }, { uid: true })) {
      if (!handled.has(msg.uid)) pending.push({ uid: msg.uid, size: msg.size, internalDate: msg.internalDate });
    }
    const selected: Listed[] = [];
    for (const msg of pending) {
      const reason = unselectedReason(msg, selection);
      if (!reason) { selected.push(msg); continue; }
      await ledger.skip({ sourceFolder: entry.source, uidValidity, uid: msg.uid, size: msg.size ?? 0, kind: reason.kind, reason: reason.text });
      report.skipped++;
      report.skippedBytes += msg.size ?? 0;
    }
    if (selected.length === 0) return report;
    const alreadyThere = await unaccountedDestMessages(dest, entry, uidValidity, ledger);
    for (const batch of batches(selected)) {
      for await (const msg of source.fetch(batch.map((m) => m.uid).join(','), { uid: true, flags: true, internalDate: true, size: true, source: true }, { uid: true })) {
        await copyMessage(dest, entry, msg, uidValidity, alreadyThere, report, options);
      }
    }
    return report;
  } finally {
    lock.release();
  }
}

async function copyMessage(dest: ImapFlow, entry: FolderPlanEntry, msg: FetchMessageObject, uidValidity: string,
  alreadyThere: Map<string, number[]>, report: FolderReport, options: CopyOptions): Promise<void> {
  const content = msg.source!;
  const size = msg.size ?? content.length;
  const print = fingerprint(headerBytes(content), size, msg.internalDate);
  const base = { sourceFolder: entry.source, uidValidity, uid: msg.uid, destFolder: entry.dest, size, fingerprint: print, pass: options.pass };
  const matched = alreadyThere.get(print)?.shift();
  if (matched !== undefined) {
    await options.ledger.record({ ...base, destUid: matched });
    report.matched++;
    return;
  }
  const flags = [...(msg.flags ?? [])].filter((flag) => flag !== '\\Recent');
  let result: { uid?: number } | false;
  try {
    result = await dest.append(entry.dest, content, flags, msg.internalDate);
  } catch (err) {
    const e = err as { responseStatus?: string; responseText?: string; serverResponseCode?: string; message: string };
    if (e.responseStatus === 'NO' || e.responseStatus === 'BAD' || e.serverResponseCode === 'APPENDLIMIT') {
      await options.ledger.skip({ ...base, kind: 'refused', reason: e.responseText || e.message });
      report.failed++;
      return;
    }
    throw mapImapError(err, options.dest.host, 'APPEND');
  }
  crashpoint('copy:after-append');
  await options.ledger.record({ ...base, destUid: result && result.uid ? result.uid : null });
  report.copied++;
  report.copiedBytes += size;
  options.onProgress?.({ folder: entry.source, copied: report.copied, bytes: report.copiedBytes });
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

// Messages in the destination folder that the ledger does not account for under this source
// folder's current UIDVALIDITY: appended just before a crash, copied by an earlier run whose
// ledger is gone or under a UIDVALIDITY since reset, or there before the migration. Matching
// source messages against them by fingerprint is what keeps a re-run from duplicating.
async function unaccountedDestMessages(dest: ImapFlow, entry: FolderPlanEntry, uidValidity: string, ledger: LedgerStore): Promise<Map<string, number[]>> {
  const byPrint = new Map<string, number[]>();
  const destFolder = entry.dest;
  const known = await ledger.destUids(destFolder, { sourceFolder: entry.source, uidValidity });
  const status = await dest.status(destFolder, { messages: true });
  if ((status ? status.messages ?? 0 : 0) <= known.size) return byPrint;
  const lock = await dest.getMailboxLock(destFolder, { readOnly: true });
  try {
    for await (const msg of dest.fetch('1:*', { uid: true, size: true, internalDate: true, headers: true }, { uid: true })) {
      if (known.has(msg.uid) || !msg.headers) continue;
      const print = fingerprint(msg.headers, msg.size ?? 0, msg.internalDate);
      byPrint.set(print, [...(byPrint.get(print) ?? []), msg.uid]);
    }
  } finally {
    lock.release();
  }
  // APPEND on imapflow 2.1.2 filters flags against the selected mailbox: leave none selected.
  await dest.mailboxClose();
  return byPrint;
}
