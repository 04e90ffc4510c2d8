import type { ImapFlow, ListResponse } from 'imapflow';
import { fingerprint } from '../fingerprint.ts';
import type { FolderPlanEntry } from '../folders.ts';
import { mapImapError } from '../imap.ts';
import type { Pool } from '../pool.ts';
import { uidSet } from '../wire/syntax.ts';
import type { DeltaStore, KnownCopy } from './store.ts';

export interface RenameContext {
  sources: Pool<ImapFlow>;
  dests: Pool<ImapFlow>;
  store: DeltaStore;
  plan: FolderPlanEntry[];
  sourceList: ListResponse[];
  /** The destination's listing; renamed folders are changed in it, so the set-up neither creates nor keeps the old ones. */
  destList: ListResponse[];
  destHost: string;
}

/** Known UIDs whose fingerprints must all be found in a new folder before it is taken for a renamed one. */
const SAMPLE = 5;

/**
 * Source folders renamed since the last pass: a folder the ledger knows has gone from the listing
 * and a folder it does not know has appeared with the same UIDVALIDITY, holding the known
 * messages under their known UIDs (a sample of their fingerprints is checked: servers that give
 * UIDVALIDITY from the clock give folders created in the same second the same one). Each is
 * renamed on the destination (one RENAME, the copies keep their UIDs and flags) and the ledger
 * follows, instead of every message being moved and the old folder deleted. Parents go first; a
 * child renamed with its parent only needs its ledger rows to follow. Returns "old → new" per folder.
 */
export async function followRenames(ctx: RenameContext): Promise<string[]> {
  const listed = new Map(ctx.sourceList.map((f) => [f.path, f]));
  const marks = await ctx.store.marks();
  const gone = [...marks.entries()].filter(([folder]) => !listed.has(folder) && !ctx.plan.some((e) => e.source === folder));
  if (!gone.length) return [];
  const fresh = ctx.plan.filter((e) => e.selectable && !e.excluded && !marks.has(e.source) && listed.get(e.source)?.status);
  if (!fresh.length) return [];
  const destPaths = new Map(ctx.destList.map((f) => [f.path, f]));
  const renamed: string[] = [];
  const depth = (name: string) => name.split(/[/.]/).length;
  for (const [oldSource, mark] of gone.sort((a, b) => depth(a[0]) - depth(b[0]))) {
    const copies = await ctx.store.copies(oldSource, mark.uidValidity);
    const oldDest = copies[0]?.destFolder;
    if (!oldDest || copies.some((c) => c.destFolder !== oldDest) || oldDest.toUpperCase() === 'INBOX') continue;
    for (const entry of fresh) {
      const status = listed.get(entry.source)!.status!;
      if (String(status.uidValidity ?? '') !== mark.uidValidity || Number(status.uidNext ?? 0) < mark.uidNext) continue;
      if (!(await holdsCopies(ctx.sources, entry.source, copies))) continue;
      const oldListed = destPaths.get(oldDest);
      if (destPaths.has(entry.dest)) {
        // Already there under its new name: renamed with its parent, or made by the user (then left to the moves).
        if (oldListed) continue;
      } else {
        if (!oldListed) continue;
        await ctx.dests.use(async (dest) => {
          try {
            await dest.mailboxRename(oldDest, entry.dest);
            if (oldListed.subscribed) await dest.mailboxUnsubscribe(oldDest);
          } catch (err) {
            throw mapImapError(err, ctx.destHost, `RENAME ${oldDest}`);
          }
        });
        // Children came along: the listing says where they are now; the set-up subscribes the new names.
        const prefix = `${oldDest}${oldListed.delimiter ?? '/'}`;
        for (const f of ctx.destList) {
          const was = f.path;
          if (was === oldDest) f.path = entry.dest;
          else if (was.startsWith(prefix)) f.path = `${entry.dest}${oldListed.delimiter ?? '/'}${was.slice(prefix.length)}`;
          else continue;
          f.subscribed = false;
          destPaths.delete(was);
          destPaths.set(f.path, f);
        }
      }
      await ctx.store.renameFolder({ source: oldSource, dest: oldDest }, { source: entry.source, dest: entry.dest });
      fresh.splice(fresh.indexOf(entry), 1);
      renamed.push(`${oldSource} → ${entry.source}`);
      break;
    }
  }
  return renamed;
}

/** Whether the folder holds a sample of the known messages under their known UIDs, by fingerprint. */
async function holdsCopies(sources: Pool<ImapFlow>, folder: string, copies: KnownCopy[]): Promise<boolean> {
  if (!copies.length) return false;
  const sorted = [...copies].sort((a, b) => a.uid - b.uid);
  const step = Math.max(1, Math.floor(sorted.length / SAMPLE));
  const sample = new Map(sorted.filter((_, i) => i % step === 0).slice(0, SAMPLE).map((c) => [c.uid, c.fingerprint]));
  sample.set(sorted[sorted.length - 1]!.uid, sorted[sorted.length - 1]!.fingerprint);
  return sources.use(async (source) => {
    const lock = await source.getMailboxLock(folder, { readOnly: true });
    try {
      let matched = 0;
      for await (const msg of source.fetch(uidSet([...sample.keys()]), { uid: true, size: true, internalDate: true, headers: true }, { uid: true })) {
        if (msg.headers && sample.get(msg.uid) === fingerprint(msg.headers, msg.size ?? 0, msg.internalDate)) matched++;
      }
      return matched === sample.size;
    } finally {
      lock.release();
    }
  });
}
