import type { ImapFlow, ListResponse } from 'imapflow';
import type { FolderSide } from './folders.ts';
import { listFolders } from './listing.ts';

/** `listed`: a LIST the caller already has from this connection (the copy lists once, with STATUS, for its plan and its order). */
export async function folderSide(client: ImapFlow, listed?: ListResponse[]): Promise<FolderSide> {
  listed ??= await listFolders(client);
  const ns = client.namespace as { prefix?: string; delimiter?: string } | undefined;
  return {
    namespace: { prefix: ns?.prefix ?? '', delimiter: ns?.delimiter ?? listed[0]?.delimiter ?? '/' },
    folders: listed.map((f) => ({
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
