import type { ImapFlow, ListResponse } from 'imapflow';
import type { Logger } from '../../log.ts';
import type { FolderPlanEntry } from '../folders.ts';
import type { Pool } from '../pool.ts';
import { mapImapError } from '../imap.ts';
import { isTransient, laneBackoffMs } from '../transient.ts';
import { markListed } from '../folder-cache.ts';
import { applyFlags, applyFlagsOnSession, deleteIfEmpty, deleteUnchanged, mayChangeFlags, moveCopies } from './apply.ts';
import { FetchReader } from '../wire/fetcher.ts';
import { APPENDER_STALL_MS, type PipelinedAppender } from '../wire/appender.ts';
import { arrivals, changesOnReader, enableQresync, folderChanges, type Arrival, type DueFolder, type FolderChanges } from './source-changes.ts';
import type { DeltaStore, FolderMark, KnownCopy } from './store.ts';

export interface MirrorOptions {
  /** Remove copies of messages expunged on the source (and move copies of moved ones); false keeps everything. */
  deletes: boolean;
}

/** What a delta pass changed on the destination besides new mail, per kind. */
export interface MirrorReport {
  /** Copies whose flags or keywords were brought to the source's. */
  flags: number;
  /** Copies removed because the source expunged the message. */
  deleted: number;
  /** Copies moved to another folder because the source message was. */
  moved: number;
  /** Source message gone, but its destination copy changed since it was written: kept. */
  keptChanged: number;
  /** Source message gone, but the copy was not written by this migration with known flags: kept. */
  keptForeign: number;
  /** Source message gone, kept because deletions are not mirrored (--no-mirror-deletes), or the destination has no UIDPLUS. */
  keptByOption: number;
  /** Source message gone and its copy already gone from the destination too. */
  alreadyGone: number;
  /** Folders renamed on the source, renamed on the destination with one RENAME ("old → new"). */
  foldersRenamed: string[];
  /** Destination folders removed because their source folder was (renamed or deleted) and all they held was ours and moved or removed. */
  foldersDeleted: string[];
  /** Destination folders of a source folder that is gone, kept because they still hold mail. */
  foldersKept: string[];
  /** Source folders whose messages were looked at (CONDSTORE: only those whose HIGHESTMODSEQ moved). */
  foldersScanned: number;
  seconds: number;
}

export interface MirrorContext {
  sources: Pool<ImapFlow>;
  /** Our own source sessions: where the server has CONDSTORE, every changed folder is read on one of them at once. */
  readers?: Pool<FetchReader>;
  dests: Pool<ImapFlow>;
  /** The destination's sessions of our own: flag changes are stored on them (SELECT, then every STORE and the deselect at once). */
  appenders?: Pool<PipelinedAppender>;
  /** How long a session of our own may stay silent while an answer is owed. */
  stallMs?: number;
  store: DeltaStore;
  /** The pass's folder plan (excluded entries are left alone). */
  plan: FolderPlanEntry[];
  /** The source's LIST-STATUS of this pass (with HIGHESTMODSEQ where the server has CONDSTORE). */
  sourceList: ListResponse[];
  sourceHost: string;
  destHost: string;
  pass: number;
  options: MirrorOptions;
  log?: Logger;
  /** Settles once the destination folders of the plan exist: waited for only when there is something to mirror. */
  destReady?: Promise<void>;
  /** Folders already renamed on the destination before the set-up (followRenames), for the report. */
  renamed?: string[];
}

interface Status { uidValidity: string; uidNext: number; modseq?: string }

const MAX_ATTEMPTS = 5;

export function emptyMirrorReport(): MirrorReport {
  return { flags: 0, deleted: 0, moved: 0, keptChanged: 0, keptForeign: 0, keptByOption: 0, alreadyGone: 0, foldersRenamed: [], foldersDeleted: [], foldersKept: [], foldersScanned: 0, seconds: 0 };
}

export function mirrorActions(r: MirrorReport): number {
  return r.flags + r.deleted + r.moved + r.foldersRenamed.length + r.foldersDeleted.length;
}

/**
 * Makes the destination's known copies follow what happened to their source messages since the
 * last pass: flags and keywords, expunges, moves between folders, folders gone. Runs before the
 * new messages are copied (a moved message is then already where it belongs). Every step reads
 * its state from the ledger and writes it back after acting, so a cut part-way is resumed by
 * running it again; a lost connection does so at once. `finish` records each folder's
 * HIGHESTMODSEQ as the baseline of the next pass once the copy has run.
 */
export async function mirrorChanges(ctx: MirrorContext): Promise<{ report: MirrorReport; finish(): Promise<void> }> {
  const started = Date.now();
  const report = emptyMirrorReport();
  report.foldersRenamed = ctx.renamed ?? [];
  const statuses = new Map<string, Status>(ctx.sourceList.map((f) => [f.path, {
    uidValidity: String(f.status?.uidValidity ?? ''), uidNext: Number(f.status?.uidNext ?? 0),
    modseq: f.status?.highestModseq !== undefined && f.status.highestModseq !== null ? String(f.status.highestModseq) : undefined,
  }]));
  const marks = await ctx.store.marks();
  // A first pass has nothing to mirror: its copy need not wait for the whole folder set-up.
  if (marks.size > 0 || (await ctx.store.ledgerFolders()).length > 0) await ctx.destReady;
  await statusUnlisted(ctx, statuses);
  await markFromLedger(ctx, statuses, marks);
  for (let attempt = 1; ; attempt++) {
    try {
      await mirrorOnce(ctx, marks, statuses, report);
      break;
    } catch (err) {
      if (!isTransient(err) || attempt >= MAX_ATTEMPTS) throw err;
      ctx.log?.warn({ attempt, err: (err as Error).message }, 'connection lost while mirroring source changes; resuming');
      await new Promise((resolve) => setTimeout(resolve, laneBackoffMs(err, attempt)));
    }
  }
  report.seconds = (Date.now() - started) / 1000;
  return {
    report,
    async finish() {
      // Folders copied for the first time (or under a new UIDVALIDITY) start from the HIGHESTMODSEQ seen before the copy read them.
      await ctx.store.saveModseqs(ctx.plan.flatMap((entry) => {
        const status = statuses.get(entry.source);
        const mark = marks.get(entry.source);
        return !status?.modseq || (mark && mark.uidValidity === status.uidValidity && mark.highestModseq) ? [] : [{ sourceFolder: entry.source, highestModseq: status.modseq }];
      }));
    },
  };
}

/**
 * A server that announces no UIDNEXT (Courier) leaves no checkpoint: the ledger says what the
 * last pass knew instead, the highest UID copied standing for where it stopped. Only read when
 * some folder has no checkpoint (the ledger is grouped, not walked).
 */
async function markFromLedger(ctx: MirrorContext, statuses: Map<string, Status>, marks: Map<string, FolderMark>): Promise<void> {
  if (ctx.plan.every((e) => !e.selectable || e.excluded || marks.has(e.source)) && marks.size > 0) return;
  for (const { sourceFolder, uidValidity, maxUid } of await ctx.store.ledgerFolders()) {
    if (marks.has(sourceFolder)) continue;
    const current = statuses.get(sourceFolder)?.uidValidity;
    // A folder gone from the source keeps any generation; a present one, its current one.
    if (current !== undefined && current !== uidValidity) continue;
    marks.set(sourceFolder, { uidValidity, uidNext: maxUid + 1 });
  }
}

/**
 * Folders in the plan that the listing did not return (Courier does not list INBOX under its
 * "INBOX." namespace): asked for one by one, so they are mirrored too and never taken for gone.
 */
async function statusUnlisted(ctx: MirrorContext, statuses: Map<string, Status>): Promise<void> {
  const unlisted = ctx.plan.filter((e) => e.selectable && !e.excluded && !statuses.has(e.source));
  if (!unlisted.length) return;
  await ctx.sources.use(async (source) => {
    const condstore = source.capabilities.has('CONDSTORE');
    for (const entry of unlisted) {
      const status = await source.status(entry.source, { uidNext: true, uidValidity: true, ...(condstore ? { highestModseq: true } : {}) });
      if (!status) continue;
      statuses.set(entry.source, {
        uidValidity: String(status.uidValidity ?? ''), uidNext: Number(status.uidNext ?? 0),
        modseq: status.highestModseq !== undefined && status.highestModseq !== null ? String(status.highestModseq) : undefined,
      });
    }
  });
}

interface Move { copy: KnownCopy; entry: FolderPlanEntry; uidValidity: string; arrival: Arrival }

async function mirrorOnce(ctx: MirrorContext, marks: Map<string, FolderMark>, statuses: Map<string, Status>, report: MirrorReport): Promise<void> {
  const entries = ctx.plan.filter((e) => e.selectable && !e.excluded);
  const flagWork: Array<{ copy: KnownCopy; flags: string[] }> = [];
  let vanished: KnownCopy[] = [];
  const scanned: Array<{ sourceFolder: string; highestModseq: string }> = [];
  const changing: Array<{ entry: FolderPlanEntry; mark: FolderMark; condstore: boolean }> = [];
  for (const entry of entries) {
    const mark = marks.get(entry.source);
    const status = statuses.get(entry.source);
    if (!mark || !status || status.uidValidity !== mark.uidValidity) continue;
    const condstore = status.modseq !== undefined;
    // CONDSTORE: a folder whose HIGHESTMODSEQ has not moved had no flag change and no expunge.
    if (condstore && mark.highestModseq === status.modseq) continue;
    changing.push({ entry, mark, condstore });
    if (status.modseq) scanned.push({ sourceFolder: entry.source, highestModseq: status.modseq });
  }
  // One read for every folder that may have changed, not one per folder.
  const known = await ctx.store.copiesIn(changing.map(({ entry, mark }) => ({ sourceFolder: entry.source, uidValidity: mark.uidValidity })));
  const due = changing.flatMap((c) => (known.get(c.entry.source)?.length ? [{ ...c, known: known.get(c.entry.source)! }] : []));
  report.foldersScanned += due.length;
  for (const changes of await sourceChanges(ctx, due)) {
    flagWork.push(...changes.flags.filter(mayChangeFlags));
    vanished.push(...changes.vanished);
  }
  const goneFolders = new Map<string, string | undefined>();
  for (const folder of marks.keys()) {
    if (statuses.has(folder) || ctx.plan.some((e) => e.source === folder)) continue;
    const copies = await ctx.store.copies(folder);
    goneFolders.set(folder, copies[0]?.destFolder);
    vanished.push(...copies);
  }

  const moves = ctx.options.deletes ? await findMoves(ctx, entries, marks, statuses, vanished) : [];
  const movedAway = new Set(moves.map((m) => m.copy));
  vanished = vanished.filter((c) => !movedAway.has(c));
  const unmoved = await applyMoves(ctx, moves, flagWork, report);
  vanished.push(...unmoved);

  // The ledger learns the new flags once every folder has them, in one transaction (not one per
  // folder between two folders' commands). A cut before that leaves the rows with the flags written
  // before, which only keeps a copy a later deletion would have removed; the HIGHESTMODSEQ saved
  // last has not moved either, so the next pass reads these changes again and records them.
  const applied: Array<{ copy: KnownCopy; flags: string[] }> = [];
  const applying = inParallel([...groupBy(flagWork, (c) => c.copy.destFolder)], async ([folder, changes]) => {
    applied.push(...ctx.appenders
      ? await ctx.appenders.use((appender) => FetchReader.over(appender, ctx.destHost, ctx.stallMs ?? APPENDER_STALL_MS, (reader) => applyFlagsOnSession(reader, folder, ctx.destHost, changes)))
      : await ctx.dests.use((dest) => applyFlags(dest, folder, ctx.destHost, changes)));
  });
  // What reached the destination before a failure is recorded too; the failure is what is thrown.
  const failed = await applying.then(() => undefined, (err: unknown) => ({ err }));
  await ctx.store.setFlags(applied).catch((err: unknown) => { if (!failed) throw err; });
  report.flags += applied.length;
  if (failed) throw failed.err;

  const kept = new Set<string>();
  for (const [folder, copies] of groupBy(vanished, (c) => c.destFolder)) {
    const foreign = copies.filter((c) => c.flags === null || c.destUid === null);
    const ours = copies.filter((c) => c.flags !== null && c.destUid !== null);
    report.keptForeign += foreign.length;
    await ctx.store.forget(foreign);
    if (foreign.length) kept.add(folder);
    if (!ours.length) continue;
    if (!ctx.options.deletes) {
      // Kept for good: a later pass with deletions on (or without CONDSTORE, which sees it again) leaves it too.
      await ctx.store.keep(ours);
      report.keptByOption += ours.length;
      kept.add(folder);
      continue;
    }
    const outcome = await ctx.dests.use((dest) => deleteUnchanged(dest, folder, ctx.destHost, ours));
    await ctx.store.forget([...outcome.deleted, ...outcome.changed, ...outcome.gone]);
    report.deleted += outcome.deleted.length;
    report.keptChanged += outcome.changed.length;
    report.alreadyGone += outcome.gone.length;
    report.keptByOption += outcome.unsupported.length;
    if (outcome.changed.length || outcome.unsupported.length) kept.add(folder);
  }

  await followGoneFolders(ctx, goneFolders, kept, report);
  await ctx.store.saveModseqs(scanned);
  for (const { sourceFolder, highestModseq } of scanned) marks.set(sourceFolder, { ...marks.get(sourceFolder)!, highestModseq });
}

/**
 * What changed in each due folder. CONDSTORE folders go to one of our own sessions all at once where it has QRESYNC;
 * the others (and all of them without readers) are looked at side by side on imapflow sessions,
 * as many as the pool allows: on a distant server each folder costs round trips, not CPU.
 */
async function sourceChanges(ctx: MirrorContext, due: Array<{ entry: FolderPlanEntry; mark: FolderMark; known: KnownCopy[]; condstore: boolean }>): Promise<FolderChanges[]> {
  const batched = ctx.readers ? due.filter((d) => d.condstore && d.mark.highestModseq) : [];
  const results = batched.length ? await changesOnOneReader(ctx, ctx.readers!, batched.map((d) => ({ path: d.entry.source, known: d.known, highestModseq: d.mark.highestModseq! }))) : undefined;
  const rest = results ? due.filter((d) => !batched.includes(d)) : due;
  const out = results ?? [];
  await inParallel(rest, async ({ entry, mark, known, condstore }) => {
    out.push(await ctx.sources.use(async (source) => {
      if (condstore) await enableQresync(source);
      markListed(source, entry.source);
      const lock = await source.getMailboxLock(entry.source, { readOnly: true });
      try {
        return await folderChanges(source, known, mark, condstore && source.enabled.has('CONDSTORE'));
      } finally {
        lock.release();
      }
    }).catch(refusedBySource(ctx, `UID FETCH (FLAGS) in ${entry.source}`)));
  });
  return out;
}

/**
 * undefined when the session has no QRESYNC: the imapflow way then. ENABLE goes out with the
 * folders' commands (the server runs it first: it changes the session); a server that then did
 * not enable it refuses the FETCHes, and the imapflow way is taken as well.
 */
async function changesOnOneReader(ctx: MirrorContext, readers: Pool<FetchReader>, folders: DueFolder[]): Promise<FolderChanges[] | undefined> {
  const reader = await readers.acquire();
  let healthy = false;
  try {
    if (!reader.capabilities.has('QRESYNC')) {
      healthy = true;
      return undefined;
    }
    const enabling = reader.enable('QRESYNC');
    const asking = changesOnReader(reader, folders);
    asking.catch(() => undefined);
    if (!await enabling) {
      await asking.catch(() => undefined);
      healthy = reader.usable;
      return undefined;
    }
    const changes = await asking.catch(refusedBySource(ctx, `UID FETCH (FLAGS) CHANGEDSINCE in ${folders.map((f) => f.path).join(', ')}`));
    // The lanes read on from here; the reader counts VANISHED as it counts EXPUNGE.
    healthy = true;
    return changes;
  } finally {
    readers.release(reader, healthy);
  }
}

/**
 * A known message gone from one folder and a new one with the same fingerprint in another (or
 * the same) folder: the source moved it. Only looked for when something vanished, and only among
 * messages the last pass did not see.
 */
async function findMoves(ctx: MirrorContext, entries: FolderPlanEntry[], marks: Map<string, FolderMark>, statuses: Map<string, Status>, vanished: KnownCopy[]): Promise<Move[]> {
  const candidates = new Map<string, KnownCopy[]>();
  for (const copy of vanished) {
    if (copy.flags === null || copy.destUid === null) continue;
    candidates.set(copy.fingerprint, [...candidates.get(copy.fingerprint) ?? [], copy]);
  }
  const moves: Move[] = [];
  if (!candidates.size) return moves;
  for (const entry of entries) {
    const status = statuses.get(entry.source);
    if (!status) continue;
    const mark = marks.get(entry.source);
    const from = mark && mark.uidValidity === status.uidValidity ? mark.uidNext : 1;
    if (status.uidNext > 0 && status.uidNext <= from) continue;
    const found = await ctx.sources.use(async (source) => {
      const lock = await source.getMailboxLock(entry.source, { readOnly: true });
      try {
        return await arrivals(source, from);
      } finally {
        lock.release();
      }
    }).catch(refusedBySource(ctx, `UID FETCH (HEADER) in ${entry.source}`));
    for (const arrival of found) {
      const copy = candidates.get(arrival.fingerprint)?.shift();
      if (copy) moves.push({ copy, entry, uidValidity: status.uidValidity, arrival });
    }
    if (![...candidates.values()].some((list) => list.length)) break;
  }
  return moves;
}

/** Moves the copies on the destination and re-points their ledger rows; returns those that could not be moved (handled as deletions). */
async function applyMoves(ctx: MirrorContext, moves: Move[], flagWork: Array<{ copy: KnownCopy; flags: string[] }>, report: MirrorReport): Promise<KnownCopy[]> {
  const unmoved: KnownCopy[] = [];
  for (const [, group] of groupBy(moves, (m) => `${m.copy.destFolder}\u0000${m.entry.dest}`)) {
    const from = group[0]!.copy.destFolder;
    const to = group[0]!.entry.dest;
    const uids = group.map((m) => m.copy.destUid!);
    const { moved, gone } = from === to
      ? { moved: new Map(uids.map((uid) => [uid, uid] as [number, number | null])), gone: [] as number[] }
      : await ctx.dests.use((dest) => moveCopies(dest, from, to, ctx.destHost, uids));
    for (const move of group) {
      const destUid = move.copy.destUid!;
      if (moved.has(destUid)) {
        const copy: KnownCopy = { ...move.copy, sourceFolder: move.entry.source, uidValidity: move.uidValidity, uid: move.arrival.uid, destFolder: to, destUid: moved.get(destUid) ?? null, pass: ctx.pass };
        await ctx.store.moved(move.copy, copy);
        if (from !== to) report.moved++;
        if (copy.destUid !== null) flagWork.push({ copy, flags: move.arrival.flags });
      } else if (gone.includes(destUid)) {
        // The user removed the copy on the destination: the copy engine copies the message again where it now is.
        await ctx.store.forget([move.copy]);
        report.alreadyGone++;
      } else {
        unmoved.push(move.copy);
      }
    }
  }
  return unmoved;
}

/** A source folder that is gone (deleted, or renamed: its messages were moved above): its destination folder goes too if it is empty and nothing else maps to it. */
async function followGoneFolders(ctx: MirrorContext, goneFolders: Map<string, string | undefined>, kept: Set<string>, report: MirrorReport): Promise<void> {
  for (const [folder, dest] of goneFolders) {
    const remaining = await ctx.store.copies(folder);
    if (remaining.length) continue;
    await ctx.store.dropCheckpoint(folder);
    // An empty source folder left no copy to say where it went: its destination folder is left alone.
    if (dest === undefined) continue;
    const stillMapped = ctx.plan.some((e) => e.dest === dest) || dest.toUpperCase() === 'INBOX';
    if (!stillMapped && !kept.has(dest)) {
      if (await ctx.dests.use((client) => deleteIfEmpty(client, dest, ctx.destHost))) report.foldersDeleted.push(dest);
      else report.foldersKept.push(dest);
    } else if (kept.has(dest)) {
      report.foldersKept.push(dest);
    }
  }
}

/**
 * A command the source refused, as the IMAP error it is (its words quoted, exit 7) rather than an
 * internal one; a lost connection or a throttle stays as it is, for the retry above.
 */
function refusedBySource(ctx: MirrorContext, command: string): (err: unknown) => never {
  return (err) => { throw isTransient(err) ? err : mapImapError(err, ctx.sourceHost, command); };
}

/** Folders worked on at once: what the connection pools allow per account (copy.ts's DEFAULT_CONCURRENCY). */
const PARALLEL_FOLDERS = 4;
/**
 * A folder costs two round trips here, a new connection's login about five: another connection
 * is worth opening for every eight folders, not for a handful (Courier forks a process per login).
 */
const FOLDERS_PER_CONNECTION = 8;

/**
 * Runs `work` on every item, at most PARALLEL_FOLDERS at a time (one per FOLDERS_PER_CONNECTION
 * items). The first failure stops new items from starting and is thrown once the items under way
 * have finished: a retry never runs beside them.
 */
async function inParallel<T>(items: T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { err: unknown } | undefined;
  const worker = async () => {
    while (next < items.length && !failure) {
      const item = items[next++]!;
      try {
        await work(item);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_FOLDERS, Math.ceil(items.length / FOLDERS_PER_CONNECTION)) }, worker));
  if (failure) throw failure.err;
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = groups.get(k);
    if (list) list.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}
