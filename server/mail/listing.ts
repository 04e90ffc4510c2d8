import type { ImapFlow, ListOptions, ListResponse } from 'imapflow';

const SPECIAL_USE_FLAGS = ['\\All', '\\Archive', '\\Drafts', '\\Flagged', '\\Junk', '\\Sent', '\\Trash'];

interface ExecClient {
  exec(command: string, attributes: unknown[], options: { untagged: Record<string, (untagged: { attributes?: Array<{ value?: unknown }> }) => Promise<void>> }): Promise<{ next(): void }>;
}

/**
 * Every folder of an account with its subscription state (and STATUS when asked), in time and
 * memory linear in the number of folders. imapflow 2.1.2 matches each LSUB answer against every
 * listed folder: on a server without LIST-EXTENDED, 100,000 folders cost minutes of CPU in that
 * loop alone. There the folders are listed plainly and the subscriptions matched through a set.
 */
export async function listFolders(client: ImapFlow, statusQuery?: ListOptions['statusQuery']): Promise<ListResponse[]> {
  if (client.capabilities.has('LIST-EXTENDED')) return client.list({ statusQuery });
  const entries = await client.list({ listOnly: true, statusQuery });
  // listOnly also skips imapflow's separate LIST of INBOX, which a namespace prefix ("INBOX.",
  // Courier) leaves out of the main listing: without it Courier's INBOX was never copied.
  if (!entries.some((e) => e.path.toUpperCase() === 'INBOX')) entries.unshift(inboxEntry(entries[0]?.delimiter ?? '.'));
  const subscribed = await subscriptions(client);
  for (const entry of entries) {
    entry.subscribed = subscribed.has(entry.pathAsListed);
    // listOnly skips imapflow's special-use pass; the server's attributes are all that counts here anyway.
    const flag = SPECIAL_USE_FLAGS.find((f) => entry.flags.has(f));
    if (flag) Object.assign(entry, { specialUse: flag, specialUseSource: 'extension' });
  }
  if (statusQuery && !entries.some((e) => e.status)) {
    for (const entry of entries) {
      if (entry.flags.has('\\Noselect') || entry.flags.has('\\NonExistent')) continue;
      const status = await client.status(entry.path, statusQuery);
      if (status) entry.status = status;
    }
  }
  return entries;
}

function inboxEntry(delimiter: string): ListResponse {
  return { path: 'INBOX', pathAsListed: 'INBOX', name: 'INBOX', parent: [], parentPath: '', delimiter, flags: new Set(), specialUse: '\\Inbox', listed: true, subscribed: false } as unknown as ListResponse;
}

/** The raw names (as listed) of the subscribed folders, from LSUB. A server that refuses LSUB has none. */
async function subscriptions(client: ImapFlow): Promise<Set<string>> {
  const names = new Set<string>();
  try {
    // imapflow has no public LSUB; exec() is how its own list() sends it.
    const response = await (client as unknown as ExecClient).exec('LSUB', [{ type: 'STRING', value: '' }, { type: 'STRING', value: '*' }], {
      untagged: {
        LSUB: async (untagged) => {
          const raw = untagged.attributes?.[2]?.value;
          if (raw !== undefined && raw !== null) names.add(raw.toString());
        },
      },
    });
    response.next();
  } catch (err) {
    if ((err as { responseStatus?: string }).responseStatus === undefined) throw err;
  }
  return names;
}
