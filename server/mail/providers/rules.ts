import type { FolderInfo, NamespaceInfo } from '../folders.ts';

/** What the folder plan must leave out or map differently for one provider's IMAP view. */
export interface FolderRules {
  /** Why this folder stays out of the plan by default (the admin can still include it), or undefined. */
  excludedReason(folder: FolderInfo, ns: NamespaceInfo): string | undefined;
  /** The special use a provider folder stands for when its name says so but no attribute does. */
  specialUse(folder: FolderInfo, ns: NamespaceInfo): string | undefined;
  /**
   * Gmail's All Mail: the folder is copied to the destination's Archive, but only the messages
   * no other copied folder holds (archived mail); the others arrive through their labels.
   */
  archivesUnlabelled(folder: FolderInfo, ns: NamespaceInfo): boolean;
}

export const noRules: FolderRules = {
  excludedReason: () => undefined,
  specialUse: () => undefined,
  archivesUnlabelled: () => false,
};

/** A folder's path below the personal namespace, split at its delimiter. */
export function segmentsOf(folder: FolderInfo, ns: NamespaceInfo): string[] {
  let rest = folder.path;
  if (ns.prefix && rest.startsWith(ns.prefix)) rest = rest.slice(ns.prefix.length);
  const delimiter = folder.delimiter || ns.delimiter || '/';
  return rest.split(delimiter);
}

export function normaliseName(name: string): string {
  return name.normalize('NFC').toLowerCase().trim();
}
