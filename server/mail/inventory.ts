import type { ImapFlow, ListResponse } from 'imapflow';
import type { FolderSide } from './folders.ts';
import { listFolders } from './listing.ts';
import type { AccountListing } from './wire/list-reader.ts';

export async function folderSide(client: ImapFlow): Promise<FolderSide> {
  const listed = await listFolders(client);
  return sideOf({ namespace: namespaceOf(client, listed), folders: listed });
}

/** The personal namespace imapflow read at login; without one, the listing's delimiter. */
export function namespaceOf(client: ImapFlow, listed: ListResponse[]): AccountListing['namespace'] {
  const ns = client.namespace as { prefix?: string; delimiter?: string } | undefined;
  return { prefix: ns?.prefix ?? '', delimiter: ns?.delimiter ?? listed[0]?.delimiter ?? '/' };
}

export function sideOf(listing: AccountListing): FolderSide {
  return {
    namespace: listing.namespace,
    folders: listing.folders.map((f) => ({
      path: f.path,
      delimiter: f.delimiter,
      // imapflow also guesses special use from English names; only attributes the server announced count here.
      // \Important (RFC 8457, Gmail's view) is not among imapflow's special uses: kept for the provider rules.
      specialUse: f.specialUseSource === 'name' ? undefined : f.specialUse ?? (f.flags.has('\\Important') ? '\\Important' : undefined),
      subscribed: Boolean(f.subscribed),
      selectable: !f.flags.has('\\Noselect') && !f.flags.has('\\NonExistent'),
    })),
  };
}
