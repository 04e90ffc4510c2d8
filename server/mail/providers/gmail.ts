import type { FolderInfo, NamespaceInfo } from '../folders.ts';
import { normaliseName, segmentsOf, type FolderRules } from './rules.ts';

// Gmail shows labels as folders and its own views under "[Gmail]/" ("[Google Mail]/" in the UK
// and Germany), marked with RFC 6154 attributes; names are localised, attributes are not.
const CONTAINERS = new Set(['[gmail]', '[google mail]']);

/** Views of messages that live elsewhere: copying them would only duplicate. */
const VIEWS: Record<string, string> = {
  '\\Important': 'Gmail\'s Important view: its messages are copied through their labels',
  '\\Flagged': 'Gmail\'s Starred view: starred messages keep their \\Flagged flag in their own folders',
};

// Used when a server announces no attributes: the English names under the container.
const BY_NAME: Record<string, { use?: string; view?: string; all?: true }> = {
  'all mail': { all: true },
  important: { view: '\\Important' },
  starred: { view: '\\Flagged' },
  'sent mail': { use: '\\Sent' },
  drafts: { use: '\\Drafts' },
  spam: { use: '\\Junk' },
  trash: { use: '\\Trash' },
  bin: { use: '\\Trash' },
};

function underContainer(folder: FolderInfo, ns: NamespaceInfo): string | undefined {
  const segments = segmentsOf(folder, ns);
  return segments.length === 2 && CONTAINERS.has(normaliseName(segments[0]!)) ? normaliseName(segments[1]!) : undefined;
}

function isContainer(folder: FolderInfo, ns: NamespaceInfo): boolean {
  const segments = segmentsOf(folder, ns);
  return segments.length === 1 && CONTAINERS.has(normaliseName(segments[0]!));
}

// Gmail's IMAP marks the views with \Important (RFC 8457) and \Flagged; imapflow reports
// \Flagged as the special use, \Important only among the flags, so the name is the fallback.
function viewOf(folder: FolderInfo, ns: NamespaceInfo): string | undefined {
  if (folder.specialUse && VIEWS[folder.specialUse]) return folder.specialUse;
  const name = underContainer(folder, ns);
  return name ? BY_NAME[name]?.view : undefined;
}

export const gmailRules: FolderRules = {
  excludedReason(folder, ns) {
    if (isContainer(folder, ns)) return 'Gmail\'s container of its own folders';
    const view = viewOf(folder, ns);
    return view ? VIEWS[view] : undefined;
  },
  specialUse(folder, ns) {
    const name = underContainer(folder, ns);
    return name ? BY_NAME[name]?.use : undefined;
  },
  archivesUnlabelled(folder, ns) {
    return folder.specialUse === '\\All' || (!folder.specialUse && underContainer(folder, ns) === 'all mail');
  },
};
