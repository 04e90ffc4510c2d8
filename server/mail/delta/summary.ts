import type { MirrorReport } from './mirror.ts';

/** One line saying what a delta pass changed besides new mail, per kind; undefined when it changed and kept nothing. */
export function describeMirror(r: MirrorReport | undefined): string | undefined {
  if (!r) return undefined;
  const parts = [
    r.flags && `flags updated on ${r.flags}`, r.deleted && `${r.deleted} deleted (expunged on the source)`, r.moved && `${r.moved} moved`,
    r.foldersRenamed?.length && `folders renamed: ${r.foldersRenamed.join(', ')}`,
    r.foldersDeleted.length && `folders removed: ${r.foldersDeleted.join(', ')}`,
    r.keptChanged && `${r.keptChanged} kept (changed on the destination)`, r.keptForeign && `${r.keptForeign} kept (not written by this migration)`,
    r.keptByOption && `${r.keptByOption} kept (deletions not mirrored)`, r.alreadyGone && `${r.alreadyGone} already gone`,
    r.foldersKept.length && `folders kept (still hold mail): ${r.foldersKept.join(', ')}`,
  ].filter(Boolean);
  return parts.length ? `source changes mirrored in ${r.seconds.toFixed(2)} s: ${parts.join(', ')}` : undefined;
}
