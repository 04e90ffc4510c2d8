// What a purge keeps of the ledger: each mailbox's counts, whole and per folder, on its row
// (`purged_tally`), so reports and statistics still say what moved once the per-message rows are gone.
import type { Tally } from '../db/repos/tallies.ts';

export type KeptTally = Tally & { folders?: Record<string, Tally> };

function parse(text: string | null | undefined): KeptTally | undefined {
  if (!text) return undefined;
  try { return JSON.parse(text) as KeptTally; } catch { return undefined; }
}

/** The mailbox's counts as kept by a purge; undefined before any purge. */
export function keptMailboxTally(purged: string | null | undefined): Tally | undefined {
  const kept = parse(purged);
  if (!kept) return undefined;
  const { folders: _folders, ...tally } = kept;
  return tally;
}

/** Per-folder counts: the live ledger's when it has any, the purge's otherwise. */
export function withKeptFolders(live: Map<string, Tally>, purged: string | null | undefined): Map<string, Tally> {
  if (live.size > 0) return live;
  return new Map(Object.entries(parse(purged)?.folders ?? {}));
}
