import type { FetchMessageObject, ImapFlow } from 'imapflow';
import { CutoverError } from '../errors.ts';
import { LINE_LIMIT, isValidUid, quoteLine, takeUnparsedLines, withLimits } from './guard.ts';
import { fingerprint } from './fingerprint.ts';
import { FetchReader, LISTING_ITEMS, LISTING_WITH_HEADER_ITEMS } from './wire/fetcher.ts';
import { settleAll } from './settle.ts';

/** A listed message; `fingerprint` only when the listing asked for headers (the header itself is not kept). */
export type Listed = Pick<FetchMessageObject, 'uid' | 'size' | 'internalDate' | 'flags'> & { fingerprint?: string };

/** A message the server announced but whose FETCH answer could not be read, with the server's words. */
export interface Unreadable { uid: number; reason: string }

export interface FolderListing {
  /** Readable messages at or above `from` (and the retried UIDs), once each, in UID order. */
  messages: Listed[];
  unreadable: Unreadable[];
  /** Messages the server counted (EXISTS) but whose UIDs it never named: no UID to record them under. */
  unnamed: number;
}

const LISTING_QUERY = { uid: true, size: true, internalDate: true, flags: true } as const;
// A SEARCH answer is one line: room for every UID of the folder (10 digits and a space each).
const SEARCH_BYTES_PER_MESSAGE = 11;

/**
 * Lists the selected folder's messages from `from` on (and `retry`), accounting for every one the
 * server announced: the set is EXISTS and the UIDs the server names, not what imapflow managed to
 * parse. When the FETCH answers cover EXISTS (a full pass, the usual case) no extra command is
 * sent; otherwise one UID SEARCH names the set, the missing UIDs are asked for once more, and
 * those still missing are unreadable, quoted from the lines imapflow could not parse.
 * `opening`: the EXAMINE this listing is sent right behind (a FetchReader pipelines them); the
 * listing fails with it.
 */
export async function listAnnounced(client: ImapFlow | FetchReader, host: string, from: number, retry: number[], progress: () => void, withFingerprints = false, opening?: Promise<unknown>): Promise<FolderListing> {
  const source = client instanceof FetchReader ? readerSource(client, withFingerprints) : imapflowSource(client);
  const retrySet = new Set(retry);
  const range = [...retry, `${from}:*`].join(',');
  source.takeUnparsedLines();
  const listed = new Map<number, Listed>();
  const answered = new Map<number, number>();
  await settleAll([opening, collect(source, host, range, from, retrySet, listed, progress, answered)]);
  const unparsed = source.takeUnparsedLines();
  const exists = source.exists();
  if (retry.length === 0 && unparsed.length === 0 && (from === 1 ? listed.size === exists : namesEveryMessageFrom(answered, listed.size, from, exists))) {
    return { messages: ordered(listed), unreadable: [], unnamed: 0 };
  }

  const searched = await source.searchUids(range, exists);
  const named = new Set([...searched].filter((uid) => uid >= from || retrySet.has(uid)));
  for (const uid of listed.keys()) named.add(uid);
  let missing = [...named].filter((uid) => !listed.has(uid));
  if (missing.length) {
    // Asked once more, alone: a message that arrived during the listing is readable now.
    await collect(source, host, missing.join(','), 1, new Set(), listed, progress);
    unparsed.push(...source.takeUnparsedLines());
    missing = missing.filter((uid) => !listed.has(uid));
  }
  const unreadable = missing.sort((a, b) => a - b).map((uid) => ({ uid, reason: unreadableReason(uid, unparsed) }));
  // A full listing also answers for EXISTS: messages counted there but named nowhere cannot be copied either.
  const unnamed = from === 1 ? Math.max(0, source.exists() - named.size) : 0;
  return { messages: ordered(listed), unreadable, unnamed };
}

/** What a listing needs from a source connection: imapflow's (the verify step) or the copy's own FetchReader. */
interface ListingSource {
  exists(): number;
  fetch(range: string, each: (msg: { uid?: number; seq: number; header?: Buffer } & Listed) => void): Promise<void>;
  searchUids(range: string, exists: number): Promise<Set<number>>;
  takeUnparsedLines(): string[];
}

function imapflowSource(client: ImapFlow): ListingSource {
  return {
    exists: () => (client.mailbox ? client.mailbox.exists : 0),
    async fetch(range, each) {
      for await (const msg of client.fetch(range, LISTING_QUERY, { uid: true })) each(msg);
    },
    searchUids: (range, exists) => announcedUids(client, range, exists),
    takeUnparsedLines: () => takeUnparsedLines(client),
  };
}

function readerSource(reader: FetchReader, withHeaders: boolean): ListingSource {
  return {
    exists: () => reader.mailbox.exists,
    fetch: (range, each) => reader.fetch(range, withHeaders ? LISTING_WITH_HEADER_ITEMS : LISTING_ITEMS, { onMessage: (msg) => each(msg as typeof msg & Listed) }),
    async searchUids(range, exists) {
      const uids = await reader.searchUids(range, searchLineLimit(exists));
      return new Set(uids.filter(isValidUid));
    },
    takeUnparsedLines: () => reader.takeUnparsedLines(),
  };
}

/**
 * Whether the answers to `from:*` (sequence number → UID, those below `from` included) name every
 * message from `from` on by themselves, so that no UID SEARCH round trip is needed. UIDs rise with
 * sequence numbers: answers for every sequence number from EXISTS down to the first message at or
 * above `from`, that one being `from` itself or its predecessor answered and below `from`, leave
 * none out (the usual delta: the first new UID is the UIDNEXT the last pass saw).
 */
export function namesEveryMessageFrom(answered: Map<number, number>, listed: number, from: number, exists: number): boolean {
  if (exists === 0) return listed === 0;
  let seq = exists;
  let count = 0;
  for (let uid = answered.get(seq); uid !== undefined && uid >= from; uid = answered.get(seq)) {
    const below = answered.get(seq - 1);
    if (below !== undefined && below >= uid) return false;
    count++;
    seq--;
  }
  const edge = seq === 0 || (answered.has(seq) && answered.get(seq)! < from) || answered.get(seq + 1) === from;
  return edge && count === listed;
}

async function collect(source: ListingSource, host: string, range: string, from: number, retry: Set<number>, into: Map<number, Listed>, progress: () => void, answered?: Map<number, number>): Promise<void> {
  // Checked after the command: a UID out of range is a protocol error either way, and the answers stay in order.
  let invalid: { uid: unknown; seq: number } | undefined;
  await source.fetch(range, (msg) => {
    // An unsolicited FETCH (another client changed a flag) names no UID: not an answer to this command.
    if (msg.uid === undefined || msg.uid === null) return;
    if (!isValidUid(msg.uid)) { invalid ??= { uid: msg.uid, seq: msg.seq }; return; }
    if (invalid) return;
    if (answered && !answered.has(msg.seq)) answered.set(msg.seq, msg.uid);
    // "n:*" names the last message even when its UID is below n.
    if (msg.uid < from && !retry.has(msg.uid)) return;
    // The same UID twice is one message: the first answer counts.
    if (!into.has(msg.uid)) into.set(msg.uid, { uid: msg.uid, size: msg.size, internalDate: msg.internalDate, flags: msg.flags, fingerprint: msg.header && fingerprint(msg.header, msg.size ?? 0, msg.internalDate) });
    progress();
  });
  if (invalid) assertUid(invalid.uid, host, invalid.seq);
}

export function assertUid(uid: unknown, host: string, seq?: number): asserts uid is number {
  if (!isValidUid(uid)) {
    throw new CutoverError('IMAP_PROTOCOL', { host, detail: `UID ${String(uid)}${seq ? ` (message ${seq})` : ''} is outside 1..4294967295, the range IMAP allows` });
  }
}

/** The UIDs the server names in `range`, by UID SEARCH (ESEARCH where offered: one compact set). */
async function announcedUids(source: ImapFlow, range: string, exists: number): Promise<Set<number>> {
  const line = searchLineLimit(exists);
  const result = await withLimits(source, { line }, () => source.search({ uid: range }, { uid: true, returnOptions: ['ALL'] }));
  if (result === false) return new Set();
  if (Array.isArray(result)) return new Set(result.filter(isValidUid));
  const all = (result as { all?: string }).all;
  return all ? expandUidSet(all, exists + 1000) : new Set();
}

function searchLineLimit(exists: number): number {
  return Math.max(LINE_LIMIT, exists * SEARCH_BYTES_PER_MESSAGE + 4096);
}

/** "1:5,9,12:14" → the UIDs; at most `limit` of them, so a hostile "1:4294967295" cannot fill memory. */
export function expandUidSet(set: string, limit: number): Set<number> {
  const out = new Set<number>();
  for (const part of set.split(',')) {
    const [a, b] = part.split(':').map(Number);
    if (!isValidUid(a) || (b !== undefined && !isValidUid(b))) continue;
    for (let uid = Math.min(a, b ?? a); uid <= Math.max(a, b ?? a) && out.size < limit; uid++) out.add(uid);
  }
  return out;
}

function unreadableReason(uid: number, unparsed: string[]): string {
  const line = unparsedLineFor(uid, unparsed);
  return line ? `the source server's FETCH answer could not be read: ${quoteLine(line)}` : 'the source server announced it but never returned it in a FETCH answer';
}

/** The line imapflow could not parse that names this UID, if one does. */
export function unparsedLineFor(uid: number, unparsed: string[]): string | undefined {
  const pattern = new RegExp(`\\bUID\\s+${uid}\\b`, 'i');
  return unparsed.find((l) => pattern.test(l));
}

function ordered(listed: Map<number, Listed>): Listed[] {
  return [...listed.values()].sort((a, b) => a.uid - b.uid);
}
