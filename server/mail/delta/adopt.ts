import type { Listed } from '../announced.ts';
import type { DeltaStore, KnownCopy } from './store.ts';

/**
 * A folder listed under a new UIDVALIDITY (GNU imap4d hands one out each session until a folder
 * is opened read-write) holds, by UID, nothing the ledger knows. Its messages are recognised by
 * the fingerprint the copy recorded (header, size, arrival date), read from the listing's headers,
 * and the ledger rows are re-keyed to their new UIDs: no body is fetched and the destination is
 * not looked at. Each recorded copy is claimed once, and only for the destination folder it is in.
 * Returns the UIDs recognised; with `dryRun` nothing is written.
 */
export async function adoptKnownCopies(store: DeltaStore, folder: { source: string; dest: string }, uidValidity: string, listed: Listed[], dryRun: boolean): Promise<Set<number>> {
  const adopted = new Set<number>();
  if (!listed.some((m) => m.fingerprint)) return adopted;
  const earlier = new Map<string, KnownCopy[]>();
  for (const copy of await store.copies(folder.source)) {
    if (copy.uidValidity === uidValidity || copy.destFolder !== folder.dest) continue;
    const list = earlier.get(copy.fingerprint);
    if (list) list.push(copy);
    else earlier.set(copy.fingerprint, [copy]);
  }
  if (!earlier.size) return adopted;
  const rekeyed: Array<{ copy: KnownCopy; uidValidity: string; uid: number }> = [];
  for (const msg of listed) {
    const copy = msg.fingerprint ? earlier.get(msg.fingerprint)?.shift() : undefined;
    if (!copy) continue;
    rekeyed.push({ copy, uidValidity, uid: msg.uid });
    adopted.add(msg.uid);
  }
  if (!dryRun && rekeyed.length) await store.adopt(rekeyed);
  return adopted;
}
