import type { ImapFlow } from 'imapflow';

interface FolderCache { folders?: Map<string, unknown> }

/**
 * Tells imapflow a folder exists before it is selected. imapflow 2.1.2 sends `LIST "" folder`
 * before every SELECT of a folder that session has not listed (and an LSUB after it when the
 * folder is not subscribed): two round trips per folder per session, for the delimiter and
 * special use it copies into the mailbox object, which the copy never reads. The folders selected
 * here come from this pass's own listing or set-up; one that is gone still fails at SELECT.
 */
export function markListed(client: ImapFlow, path: string): void {
  const folders = (client as unknown as FolderCache).folders;
  if (folders instanceof Map && !folders.has(path)) folders.set(path, { path, flags: new Set<string>(), listed: true });
}
