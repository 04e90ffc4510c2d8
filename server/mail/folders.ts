import { noRules, type FolderRules } from './providers/rules.ts';
import { SPECIAL_USES, specialUseByName } from './special-use.ts';
import { collate } from './wire/collate.ts';

export interface NamespaceInfo { prefix: string; delimiter: string }

export interface FolderInfo {
  path: string;
  delimiter: string;
  specialUse?: string;
  subscribed: boolean;
  selectable: boolean;
}

export interface FolderSide { namespace: NamespaceInfo; folders: FolderInfo[] }

export interface FolderPlanEntry {
  source: string;
  dest: string;
  specialUse?: string;
  subscribed: boolean;
  selectable: boolean;
  excluded: boolean;
  /** Why the source's provider preset leaves this folder out by default. */
  excludedReason?: string;
  /** Gmail's All Mail: only the messages no other copied folder holds are copied (to Archive). */
  archivesUnlabelled?: boolean;
}

export interface PlanOptions { exclude?: string[]; rules?: FolderRules }

interface Relative { segments: string[]; underInbox: boolean }

function relativeSegments(path: string, ns: NamespaceInfo, delimiter: string): Relative {
  let rest = path;
  if (ns.prefix && rest.startsWith(ns.prefix)) rest = rest.slice(ns.prefix.length);
  const segments = delimiter ? rest.split(delimiter) : [rest];
  const underInbox = !ns.prefix && segments.length > 1 && segments[0]!.toUpperCase() === 'INBOX';
  return { segments, underInbox };
}

// Special-use folders are recognised at the top of the personal namespace and directly under
// INBOX (Courier and Cyrus keep them there); a folder called "Sent" deeper down is the user's own.
function detectSpecialUse(folder: FolderInfo, ns: NamespaceInfo): string | undefined {
  if (folder.specialUse && SPECIAL_USES.includes(folder.specialUse)) return folder.specialUse;
  const { segments, underInbox } = relativeSegments(folder.path, ns, folder.delimiter);
  const depth = underInbox ? segments.length - 1 : segments.length;
  return depth === 1 ? specialUseByName(segments[segments.length - 1]!) : undefined;
}

function escapeSegment(segment: string, destDelimiter: string): string {
  return destDelimiter ? segment.split(destDelimiter).join('_') : segment;
}

// Two source folders must never pour into one destination folder (a "Sent" next to the
// special-use "Sent Items" that took the destination's Sent): the later one gets a suffix.
function unclaimed(path: string, used: Set<string>): string {
  if (!used.has(path)) return path;
  let n = 2;
  while (used.has(`${path} (${n})`)) n++;
  return `${path} (${n})`;
}

/**
 * Maps every source folder to a destination path: INBOX to INBOX, special-use folders to the
 * destination's folder of the same use, everything else by translating namespace prefix and
 * hierarchy delimiter (a name holding the destination's delimiter gets `_` in its place).
 */
export function planFolders(source: FolderSide, dest: FolderSide, options: PlanOptions = {}): FolderPlanEntry[] {
  const destByUse = new Map<string, string>();
  for (const folder of dest.folders) {
    const use = detectSpecialUse(folder, dest.namespace);
    if (use && !destByUse.has(use)) destByUse.set(use, folder.path);
  }
  const excluded = new Set((options.exclude ?? []).map((e) => e.normalize('NFC')));
  const destDelimiter = dest.namespace.delimiter || '/';
  const delimiterOf = (folder: FolderInfo) => folder.delimiter || source.namespace.delimiter || '/';
  const rules = options.rules ?? noRules;
  const archives = new Set(source.folders.filter((f) => rules.archivesUnlabelled(f, source.namespace)).map((f) => f.path));
  const ordered = [...source.folders].map((folder) => withProviderUse(folder, source.namespace, rules)).sort((a, b) => a.path.split(delimiterOf(a)).length - b.path.split(delimiterOf(b)).length || collate(a.path, b.path));
  const specialUses = assignSpecialUses(ordered, source.namespace);
  const mapped = new Map<string, string>();
  const usedDest = new Set<string>();
  const entries: FolderPlanEntry[] = [];

  for (const folder of ordered) {
    const delimiter = delimiterOf(folder);
    const { segments } = relativeSegments(folder.path, source.namespace, delimiter);
    const specialUse = specialUses.get(folder.path);
    // The parent is found inside the namespace: with an "INBOX." prefix, "INBOX.Projects" is a
    // top-level folder, not a child of INBOX.
    const parentPath = segments.length > 1 ? source.namespace.prefix + segments.slice(0, -1).join(delimiter) : undefined;
    let destPath: string;
    if (folder.path.toUpperCase() === 'INBOX') {
      destPath = 'INBOX';
    } else if (specialUse) {
      // Gmail's All Mail becomes a destination "Archive" where there is none yet.
      const leaf = archives.has(folder.path) ? 'Archive' : segments[segments.length - 1]!;
      destPath = destByUse.get(specialUse) ?? dest.namespace.prefix + escapeSegment(leaf, destDelimiter);
    } else if (parentPath !== undefined && mapped.has(parentPath)) {
      destPath = mapped.get(parentPath)! + destDelimiter + escapeSegment(segments[segments.length - 1]!, destDelimiter);
    } else {
      destPath = dest.namespace.prefix + segments.map((s) => escapeSegment(s, destDelimiter)).join(destDelimiter);
    }
    destPath = unclaimed(destPath, usedDest);
    usedDest.add(destPath);
    mapped.set(folder.path, destPath);
    const excludedReason = rules.excludedReason(folder, source.namespace);
    entries.push({
      source: folder.path, dest: destPath, specialUse, subscribed: folder.subscribed, selectable: folder.selectable,
      excluded: excluded.has(folder.path.normalize('NFC')) || excludedReason !== undefined,
      ...(excludedReason !== undefined && { excludedReason }),
      ...(archives.has(folder.path) && { archivesUnlabelled: true }),
    });
  }
  return entries;
}

// A provider's own folders by what they stand for: Gmail's All Mail becomes the Archive of the
// archived messages, "[Gmail]/Sent Mail" is Sent even where no attribute says so.
function withProviderUse(folder: FolderInfo, ns: NamespaceInfo, rules: FolderRules): FolderInfo {
  if (rules.archivesUnlabelled(folder, ns)) return { ...folder, specialUse: '\\Archive' };
  const use = folder.specialUse ? undefined : rules.specialUse(folder, ns);
  return use ? { ...folder, specialUse: use } : folder;
}

// One source folder per special use: those the server marks with an RFC 6154 attribute first,
// then those recognised by a localised name, so a real \Sent is never displaced by an "Envoyés".
function assignSpecialUses(folders: FolderInfo[], ns: NamespaceInfo): Map<string, string> {
  const byPath = new Map<string, string>();
  const claimed = new Set<string>();
  const claim = (folder: FolderInfo, use: string | undefined) => {
    if (!use || claimed.has(use) || byPath.has(folder.path)) return;
    claimed.add(use);
    byPath.set(folder.path, use);
  };
  for (const folder of folders) if (folder.specialUse && SPECIAL_USES.includes(folder.specialUse)) claim(folder, folder.specialUse);
  for (const folder of folders) if (!folder.specialUse) claim(folder, detectSpecialUse(folder, ns));
  return byPath;
}
