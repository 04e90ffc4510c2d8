import type { ImapFlow } from 'imapflow';
import { fingerprint } from '../fingerprint.ts';
import { uidSet } from '../../services/rollback.ts';
import type { FolderMark, KnownCopy } from './store.ts';

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
