import type { ImapFlow } from 'imapflow';
import { fingerprint } from '../fingerprint.ts';
import type { FetchReader, UntaggedAnswer } from '../wire/fetcher.ts';
import { uidRanges, uidSet } from '../wire/syntax.ts';
import type { FolderMark, KnownCopy } from './store.ts';
import { settleAll } from '../settle.ts';

/** What changed on the source in one folder since the last pass, among the messages the ledger knows. */
export interface FolderChanges {
  /** Known messages whose flags may differ from what the destination copy was written with. */
  flags: Array<{ copy: KnownCopy; flags: string[] }>;
  /** Known messages the source no longer has. */
  vanished: KnownCopy[];
}

const UIDS_PER_FETCH = 5_000;

/**
 * One source folder (selected read-only): its known messages' current flags and the ones gone.
 * With CONDSTORE and a stored HIGHESTMODSEQ only messages changed since are returned; otherwise
 * the known UIDs' FLAGS are fetched in bounded chunks (what a server without CONDSTORE allows).
 */
export async function folderChanges(source: ImapFlow, known: KnownCopy[], mark: FolderMark | undefined, condstore: boolean): Promise<FolderChanges> {
  const byUid = new Map(known.map((c) => [c.uid, c]));
  const uids = [...byUid.keys()].sort((a, b) => a - b);
  const flags: FolderChanges['flags'] = [];
  if (!uids.length) return { flags, vanished: [] };
  const present = new Set<number>();
  const take = (uid: number, current: Set<string> | undefined) => {
    const copy = byUid.get(uid);
    if (copy) flags.push({ copy, flags: [...(current ?? [])] });
  };
  if (condstore && mark?.highestModseq && source.enabled.has('QRESYNC')) {
    // QRESYNC (RFC 7162): one UID FETCH … (CHANGEDSINCE m VANISHED) names the changed messages
    // and, as VANISHED (EARLIER), the known UIDs expunged since: no UID SEARCH round trips.
    const vanished = new Set<number>();
    const folder = source.mailbox ? source.mailbox.path : undefined;
    const heard = (e: { path?: string; uid?: number; vanished?: boolean }) => { if (e.vanished && e.uid && e.path === folder) vanished.add(e.uid); };
    source.on('expunge', heard);
    try {
      for await (const msg of source.fetch(`${uids[0]}:${uids[uids.length - 1]}`, { uid: true, flags: true }, { uid: true, changedSince: BigInt(mark.highestModseq) })) take(msg.uid, msg.flags);
    } finally {
      source.off('expunge', heard);
    }
    for (const uid of uids) if (!vanished.has(uid)) present.add(uid);
  } else if (condstore && mark?.highestModseq) {
    const range = `${uids[0]}:${uids[uids.length - 1]}`;
    for await (const msg of source.fetch(range, { uid: true, flags: true }, { uid: true, changedSince: BigInt(mark.highestModseq) })) take(msg.uid, msg.flags);
    // Expunges raise HIGHESTMODSEQ but CHANGEDSINCE does not name them: ask which known UIDs remain.
    for (let i = 0; i < uids.length; i += UIDS_PER_FETCH) {
      const found = await source.search({ uid: uidSet(uids.slice(i, i + UIDS_PER_FETCH)) }, { uid: true });
      for (const uid of found || []) present.add(uid);
    }
  } else {
    for (let i = 0; i < uids.length; i += UIDS_PER_FETCH) {
      for await (const msg of source.fetch(uidSet(uids.slice(i, i + UIDS_PER_FETCH)), { uid: true, flags: true }, { uid: true })) {
        present.add(msg.uid);
        take(msg.uid, msg.flags);
      }
    }
  }
  return { flags: flags.filter((f) => present.has(f.copy.uid)), vanished: uids.filter((uid) => !present.has(uid)).map((uid) => byUid.get(uid)!) };
}

/** A folder whose HIGHESTMODSEQ moved since the pass that recorded `highestModseq`. */
export interface DueFolder { path: string; known: KnownCopy[]; highestModseq: string }

/**
 * The changes of several folders on one of our own sessions with QRESYNC enabled, asked all at
 * once: one round trip for them all, where an imapflow session spends two a folder after a login
 * of about eight (and parses every answer twice). Per folder: EXAMINE, then
 * `UID FETCH first:last (UID FLAGS) (CHANGEDSINCE m VANISHED)`, whose VANISHED (EARLIER) names the
 * known UIDs expunged since. Each EXAMINE changes what is selected, so the server runs them in
 * order (a UID SEARCH beside a FETCH it may answer first: RFC 3501 5.5; CONDSTORE without QRESYNC
 * stays on imapflow). Any refusal is an error: a partial answer would pass for "unchanged".
 */
export async function changesOnReader(reader: FetchReader, folders: DueFolder[]): Promise<FolderChanges[]> {
  const asked = folders.map((folder) => askFolder(reader, folder));
  await settleAll(asked.flatMap((a) => a.commands));
  return asked.map((a) => a.result());
}

/** Sends one folder's commands (the reader writes each as it is called) and says how to read their answers. */
function askFolder(reader: FetchReader, { path, known, highestModseq }: DueFolder) {
  const byUid = new Map(known.map((c) => [c.uid, c]));
  const uids = [...byUid.keys()].sort((a, b) => a - b);
  const changed: FolderChanges['flags'] = [];
  const vanishedLines: UntaggedAnswer[] = [];
  const commands = [
    reader.examine(path),
    reader.fetch(`${uids[0]}:${uids[uids.length - 1]}`, `(UID FLAGS) (CHANGEDSINCE ${highestModseq} VANISHED)`, {
      onMessage: (msg) => {
        const copy = msg.uid === undefined ? undefined : byUid.get(msg.uid);
        if (copy && msg.flags) changed.push({ copy, flags: [...msg.flags] });
      },
      collect: { match: /^\* VANISHED \(EARLIER\) /i, into: vanishedLines },
      whole: true,
    }),
  ];
  const result = (): FolderChanges => {
    const gone = vanishedUids(vanishedLines, uids);
    return { flags: changed.filter((f) => !gone.has(f.copy.uid)), vanished: uids.filter((uid) => gone.has(uid)).map((uid) => byUid.get(uid)!) };
  };
  return { commands, result };
}

/** The known UIDs that VANISHED (EARLIER) answers name; a set that does not parse names none (the copy is kept). */
export function vanishedUids(lines: UntaggedAnswer[], known: number[]): Set<number> {
  const gone = new Set<number>();
  for (const line of lines) {
    const ranges = uidRanges(line.parts[0]!.replace(/^\* VANISHED \(EARLIER\) /i, '').trim()) ?? [];
    for (const [low, high] of ranges) {
      // Only the known UIDs inside the range are looked at: "1:4294967295" costs no more than the folder.
      for (let i = lowerBound(known, low); i < known.length && known[i]! <= high; i++) gone.add(known[i]!);
    }
  }
  return gone;
}

function lowerBound(sorted: number[], value: number): number {
  let lo = 0, hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < value) lo = mid + 1; else hi = mid;
  }
  return lo;
}

interface EnableClient { run(command: 'ENABLE', extensions: string[]): Promise<unknown> }

/**
 * Turns QRESYNC on for a source session that offers it, before it selects a folder (ENABLE is
 * refused once one is selected: that session keeps the UID SEARCH way). imapflow has no public
 * ENABLE; run() is how it sends its own at login, and it records what the server enabled.
 */
export async function enableQresync(source: ImapFlow): Promise<void> {
  if (!source.capabilities.has('QRESYNC') || source.enabled.has('QRESYNC') || source.mailbox) return;
  await (source as unknown as EnableClient).run('ENABLE', ['QRESYNC']);
}

export interface Arrival { uid: number; fingerprint: string; flags: string[] }

/** Messages from `fromUid` on (the ones the last pass did not see), with the fingerprint the copy engine gives them. */
export async function arrivals(source: ImapFlow, fromUid: number): Promise<Arrival[]> {
  const found: Arrival[] = [];
  if (!source.mailbox || source.mailbox.exists === 0) return found;
  for await (const msg of source.fetch(`${fromUid}:*`, { uid: true, size: true, internalDate: true, headers: true, flags: true }, { uid: true })) {
    // "N:*" names the last message even when its UID is below N.
    if (msg.uid < fromUid || !msg.headers) continue;
    found.push({ uid: msg.uid, fingerprint: fingerprint(msg.headers, msg.size ?? 0, msg.internalDate), flags: [...(msg.flags ?? [])] });
  }
  return found;
}
