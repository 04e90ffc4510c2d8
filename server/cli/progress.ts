import type { AppContext } from '../context.ts';
import type { Io } from './output.ts';

const POLL_MS = 500;

/** Prints every new event row of a project as it is written: the CLI's live timeline. */
export function followEvents(app: AppContext, projectId: number, io: Io): () => Promise<void> {
  let lastId = 0;
  let stopped = false;
  const addresses = new Map<number, string>();
  const flush = async () => {
    const rows = await app.db('events').where({ project_id: projectId }).andWhere('id', '>', lastId).orderBy('id');
    for (const row of rows) {
      lastId = row.id;
      if (row.mailbox_id && !addresses.has(row.mailbox_id)) {
        addresses.set(row.mailbox_id, (await app.db('mailboxes').where({ id: row.mailbox_id }).first('address'))?.address ?? `#${row.mailbox_id}`);
      }
      const who = row.mailbox_id ? addresses.get(row.mailbox_id) : 'domain';
      io.out(`${row.at.slice(11, 19)} ${who} ${row.step ?? ''} ${row.outcome}: ${row.message ?? ''}`.replace(/\s+$/, ''));
    }
  };
  const loop = (async () => {
    while (!stopped) {
      await flush();
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  })();
  return async () => {
    stopped = true;
    await loop;
    await flush();
  };
}
