import type { ImapFlow } from 'imapflow';
import type { FolderPlanEntry } from '../folders.ts';
import type { Checkpoint, LedgerStore } from '../ledger.ts';
import type { Pool } from '../pool.ts';

interface Seen { uid: number; key: string; size: number }

/**
 * Gmail's All Mail holds every message once more, next to its labels. Before a pass copies it
 * (to Archive), the messages some other copied folder also holds go to the ledger as skipped
 * ("copied through its label"), so only archived mail lands in Archive. It reads the new part
 * of All Mail and one header per message of the other folders: O(messages); a message once
 * decided stays decided, so a re-run adds nothing.
 */
export async function skipLabelledInArchive(active: FolderPlanEntry[], sources: Pool<ImapFlow>, ledger: LedgerStore, checkpoints: Map<string, Checkpoint | undefined>): Promise<void> {
  for (const archive of active.filter((e) => e.archivesUnlabelled && e.selectable)) {
    await sources.use(async (client) => {
      const { uidValidity, messages } = await newMessages(client, archive.source, ledger, checkpoints.get(archive.source));
      if (!messages.length) return;
      const labelled = new Map<string, string>();
      for (const entry of active) {
        if (entry === archive || !entry.selectable) continue;
        for (const seen of (await listed(client, entry.source, () => 1)).seen) if (!labelled.has(seen.key)) labelled.set(seen.key, entry.source);
      }
      for (const message of messages) {
        const label = labelled.get(message.key);
        if (label === undefined) continue;
        await ledger.skip({ sourceFolder: archive.source, uidValidity, uid: message.uid, size: message.size, kind: 'excluded', reason: `also in "${label}": copied there, not to ${archive.dest}` });
      }
    });
  }
}

async function newMessages(client: ImapFlow, folder: string, ledger: LedgerStore, checkpoint?: Checkpoint): Promise<{ uidValidity: string; messages: Seen[] }> {
  let from = 1;
  const { uidValidity, seen } = await listed(client, folder, (validity) => (from = checkpoint && checkpoint.uidValidity === validity ? checkpoint.uidNext : 1));
  const handled = await ledger.handledUids(folder, uidValidity, from);
  return { uidValidity, messages: seen.filter((m) => m.uid >= from && !handled.has(m.uid)) };
}

// What identifies one message across Gmail's folders: the same bytes, so the same Message-ID and
// size; without a Message-ID, the size and the arrival date.
async function listed(client: ImapFlow, folder: string, firstUid: (uidValidity: string) => number): Promise<{ uidValidity: string; seen: Seen[] }> {
  const lock = await client.getMailboxLock(folder, { readOnly: true });
  try {
    const uidValidity = String(client.mailbox ? client.mailbox.uidValidity : '');
    const seen: Seen[] = [];
    if (!client.mailbox || client.mailbox.exists === 0) return { uidValidity, seen };
    const from = firstUid(uidValidity);
    for await (const msg of client.fetch(`${from}:*`, { uid: true, size: true, internalDate: true, headers: ['message-id'] }, { uid: true })) {
      const id = /^message-id:[ \t]*((?:.|\r?\n[ \t])*)/im.exec(msg.headers?.toString('utf8') ?? '')?.[1]?.replace(/\s+/g, '') ?? '';
      const date = msg.internalDate ? new Date(msg.internalDate).getTime() : 0;
      seen.push({ uid: msg.uid, size: msg.size ?? 0, key: id ? `${id}|${msg.size}` : `|${msg.size}|${date}` });
    }
    return { uidValidity, seen };
  } finally {
    lock.release();
  }
}
