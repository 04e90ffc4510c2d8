import type { ImapFlow } from 'imapflow';
import { crashpoint } from '../../crashpoint.ts';
import { CutoverError } from '../../errors.ts';
import { uidSet } from '../wire/syntax.ts';
import { commandError, type FetchReader } from '../wire/fetcher.ts';
import { deselect } from '../dest-folder.ts';
import { mapImapError } from '../imap.ts';
import { markListed } from '../folder-cache.ts';
import { isWritableFlag } from '../wire/syntax.ts';
import { encodeFlags, type KnownCopy } from './store.ts';

/** Flags a copy carries on a folder: as the copy engine writes them (\Recent is the server's; PERMANENTFLAGS decide the rest). */
export function writableFlags(flags: Iterable<string>, accepts: (flag: string) => boolean): string[] {
  return [...new Set([...flags].filter((f) => f !== '\\Recent' && accepts(f) && isWritableFlag(f)))].sort();
}

function accepter(permanent: Set<string> | undefined): (flag: string) => boolean {
  return (flag) => !permanent || permanent.size === 0 || permanent.has('\\*') || permanent.has(flag);
}

async function selectDest(dest: ImapFlow, folder: string, host: string): Promise<{ release(): void } | undefined> {
  try {
    markListed(dest, folder);
    return await dest.getMailboxLock(folder);
  } catch (err) {
    if ((err as { serverResponseCode?: string }).serverResponseCode === 'NONEXISTENT') return undefined;
    throw mapImapError(err, host, `SELECT ${folder}`);
  }
}

/** Leaves the destination folder selected by nobody: the appender filters flags against a selected folder. */
async function inFolder<T>(dest: ImapFlow, folder: string, host: string, work: (accepts: (flag: string) => boolean) => Promise<T>, absent: () => T): Promise<T> {
  const lock = await selectDest(dest, folder, host);
  if (!lock) return absent();
  try {
    return await work(accepter(dest.mailbox ? dest.mailbox.permanentFlags : undefined));
  } finally {
    lock.release();
    await deselect(dest);
  }
}

type FlagChange = { copy: KnownCopy; flags: string[] };

/**
 * Whether a copy written by this migration may need a STORE. It was written with what its folder
 * accepted, so a source message whose flags are still those has nothing to change: no destination
 * connection or SELECT is spent on it (a no-op pass without CONDSTORE lists every known message).
 */
export function mayChangeFlags(change: { copy: KnownCopy; flags: string[] }): boolean {
  return change.copy.flags !== null && change.copy.destUid !== null && encodeFlags(writableFlags(change.flags, () => true)) !== encodeFlags(change.copy.flags);
}

/**
 * Brings the copies' flags to the source's: only the difference from what each copy was written
 * with is added and removed, so a flag set on the destination alone stays. One STORE per distinct
 * change, not per message. Returns what was stored, for the ledger.
 */
export async function applyFlags(dest: ImapFlow, folder: string, host: string, changes: FlagChange[]): Promise<FlagChange[]> {
  const mine = changes.filter(mayChangeFlags);
  if (!mine.length) return [];
  return inFolder(dest, folder, host, async (accepts) => {
    const { groups, applied } = flagGroups(mine, accepts);
    try {
      for (const { add, remove, uids } of groups) {
        const set = uidSet(uids);
        if (add.length) await dest.messageFlagsAdd(set, add, { uid: true, silent: true });
        if (remove.length) await dest.messageFlagsRemove(set, remove, { uid: true, silent: true });
        crashpoint('delta:after-store');
      }
    } catch (err) {
      throw mapImapError(err, host, `UID STORE in ${folder}`);
    }
    return applied;
  }, () => []);
}

/** The STOREs that bring `changes` about, one per distinct change, and what each copy then carries. */
function flagGroups(changes: FlagChange[], accepts: (flag: string) => boolean): { groups: Array<{ add: string[]; remove: string[]; uids: number[] }>; applied: FlagChange[] } {
  const groups = new Map<string, { add: string[]; remove: string[]; uids: number[] }>();
  const applied: FlagChange[] = [];
  for (const { copy, flags } of changes) {
    const want = writableFlags(flags, accepts);
    const written = new Set(copy.flags);
    const add = want.filter((f) => !written.has(f));
    const remove = [...written].filter((f) => !want.includes(f));
    if (!add.length && !remove.length) continue;
    const key = `${encodeFlags(add)}\u0000${encodeFlags(remove)}`;
    const group = groups.get(key) ?? { add, remove, uids: [] };
    group.uids.push(copy.destUid!);
    groups.set(key, group);
    applied.push({ copy, flags: want });
  }
  return { groups: [...groups.values()], applied };
}

/**
 * `applyFlags` on a raw session of our own (the appender's, lent to a FetchReader): SELECT, then
 * every STORE and the deselect in one round trip. imapflow ENABLEs CONDSTORE, and a server then
 * answers each STORE .SILENT with a FETCH (UID MODSEQ) per message (RFC 7162 3.1): 500 changes
 * were 500 answers parsed for nothing, and its own login about eight round trips.
 */
export async function applyFlagsOnSession(reader: FetchReader, folder: string, host: string, changes: FlagChange[]): Promise<FlagChange[]> {
  const mine = changes.filter(mayChangeFlags);
  if (!mine.length) return [];
  let permanent: Set<string> | undefined;
  try {
    permanent = (await reader.select(folder)).permanentFlags;
  } catch (err) {
    if ((err as { serverResponseCode?: string }).serverResponseCode === 'NONEXISTENT') return [];
    throw mapImapError(err, host, `SELECT ${folder}`);
  }
  const { groups, applied } = flagGroups(mine, accepter(permanent));
  const stores = groups.flatMap(({ add, remove, uids }) => [
    ...(add.length ? [`UID STORE ${uidSet(uids)} +FLAGS.SILENT (${add.join(' ')})`] : []),
    ...(remove.length ? [`UID STORE ${uidSet(uids)} -FLAGS.SILENT (${remove.join(' ')})`] : []),
  ]);
  const [stored, deselected] = await Promise.allSettled([reader.exchange(stores), reader.deselect(folder)]);
  if (stored.status === 'rejected') throw mapImapError(stored.reason, host, `UID STORE in ${folder}`);
  const refused = stored.value.find((answer) => answer.response.status !== 'OK');
  if (refused) throw mapImapError(commandError(refused.response), host, `UID STORE in ${folder}`);
  crashpoint('delta:after-store');
  if (deselected.status === 'rejected') throw mapImapError(deselected.reason, host, `UNSELECT ${folder}`);
  return applied;
}

/** `unsupported`: the destination has no UIDPLUS, so nothing can be deleted by UID: kept. */
export interface DeleteOutcome { deleted: KnownCopy[]; changed: KnownCopy[]; gone: KnownCopy[]; unsupported: KnownCopy[] }

/**
 * Removes copies whose source message is gone, each only if its flags on the destination are
 * still the ones written (\Deleted aside: a cut between STORE and UID EXPUNGE leaves it set).
 * UID EXPUNGE only: a plain EXPUNGE would also remove what the user marked \Deleted.
 */
export async function deleteUnchanged(dest: ImapFlow, folder: string, host: string, copies: KnownCopy[]): Promise<DeleteOutcome> {
  const outcome: DeleteOutcome = { deleted: [], changed: [], gone: [], unsupported: [] };
  if (!copies.length) return outcome;
  if (!dest.capabilities.has('UIDPLUS')) return { ...outcome, unsupported: [...copies] };
  return inFolder(dest, folder, host, async () => {
    const byUid = new Map(copies.map((c) => [c.destUid!, c]));
    const seen = new Set<number>();
    try {
      for await (const msg of dest.fetch(uidSet([...byUid.keys()]), { uid: true, flags: true }, { uid: true })) {
        const copy = byUid.get(msg.uid);
        if (!copy || seen.has(msg.uid)) continue;
        seen.add(msg.uid);
        const now = encodeFlags([...(msg.flags ?? [])].filter((f) => f !== '\\Recent' && f !== '\\Deleted'));
        (now === encodeFlags(copy.flags ?? []) ? outcome.deleted : outcome.changed).push(copy);
      }
      outcome.gone.push(...copies.filter((c) => !seen.has(c.destUid!)));
      if (outcome.deleted.length && !(await dest.messageDelete(uidSet(outcome.deleted.map((c) => c.destUid!)), { uid: true }))) {
        throw new CutoverError('IMAP_FAILED', { host, command: `UID EXPUNGE in ${folder}`, detail: 'the server refused to delete the messages' }, { retryable: true });
      }
      if (outcome.deleted.length) crashpoint('delta:after-expunge');
    } catch (err) {
      throw mapImapError(err, host, `delete in ${folder}`);
    }
    return outcome;
  }, () => ({ ...outcome, gone: [...copies] }));
}

/** Moves copies to another destination folder (MOVE, or COPY + UID EXPUNGE); the map gives each one's new UID where the server says it (UIDPLUS). */
export async function moveCopies(dest: ImapFlow, from: string, to: string, host: string, destUids: number[]): Promise<{ moved: Map<number, number | null>; gone: number[] }> {
  // imapflow emulates MOVE with COPY and an EXPUNGE that is plain without UIDPLUS: not here.
  if (!dest.capabilities.has('MOVE') && !dest.capabilities.has('UIDPLUS')) return { moved: new Map(), gone: [] };
  return inFolder(dest, from, host, async () => {
    const present = await dest.search({ uid: uidSet(destUids) }, { uid: true }) || [];
    const moved = new Map<number, number | null>();
    if (present.length) {
      try {
        const result = await dest.messageMove(uidSet(present), to, { uid: true });
        for (const uid of present) moved.set(uid, result && result.uidMap ? result.uidMap.get(uid) ?? null : null);
        crashpoint('delta:after-move');
      } catch (err) {
        throw mapImapError(err, host, `UID MOVE ${from} → ${to}`);
      }
    }
    return { moved, gone: destUids.filter((uid) => !present.includes(uid)) };
  }, () => ({ moved: new Map(), gone: [...destUids] }));
}

/** Deletes a destination folder if it holds nothing; says whether it did. */
export async function deleteIfEmpty(dest: ImapFlow, folder: string, host: string): Promise<boolean> {
  try {
    const status = await dest.status(folder, { messages: true });
    if (!status || (status.messages ?? 1) !== 0) return false;
    await dest.mailboxDelete(folder);
    return true;
  } catch (err) {
    if ((err as { serverResponseCode?: string }).serverResponseCode === 'NONEXISTENT') return false;
    throw mapImapError(err, host, `DELETE ${folder}`);
  }
}
