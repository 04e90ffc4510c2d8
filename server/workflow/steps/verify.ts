import type { ImapFlow } from 'imapflow';
import { listAnnounced } from '../../mail/announced.ts';
import type { FolderPlanEntry } from '../../mail/folders.ts';
import { dbLedger, type LedgerStore } from '../../mail/ledger.ts';
import { copyPass } from '../copy-pass.ts';
import { withBothSides } from '../endpoints.ts';
import { folderPlan } from '../folder-plan.ts';
import { filesVerified, fromFiles } from '../file-source.ts';
import { done, type Step, type StepContext } from '../types.ts';

export interface FolderReconciliation {
  source: string;
  dest: string;
  /** What the source announced: EXISTS, and the UIDs it names (readable or not). */
  sourceMessages: number;
  /** Messages the source counted (EXISTS) without naming their UIDs: unaccounted, by definition. */
  unnamed?: number;
  copied: number;
  copiedBytes: number;
  skipped: number;
  skippedBytes: number;
  notCopied: number[];
  missingOnDest: number[];
}

export interface VerifyResult { clean: boolean; folders: FolderReconciliation[] }

async function uidsOf(client: ImapFlow, folder: string): Promise<{ uidValidity: string; uids: number[] }> {
  const lock = await client.getMailboxLock(folder, { readOnly: true });
  try {
    const uids: number[] = [];
    if (client.mailbox && client.mailbox.exists > 0) {
      for await (const msg of client.fetch('1:*', { uid: true }, { uid: true })) uids.push(msg.uid);
    }
    return { uidValidity: String(client.mailbox ? client.mailbox.uidValidity : 0), uids };
  } finally {
    lock.release();
  }
}

/**
 * The source's side is what the server announced, not what its FETCH answers let a parser read:
 * a message behind an unparseable line still counts, and so does one EXISTS counts but no UID names.
 */
async function announcedOf(client: ImapFlow, folder: string, host: string): Promise<{ uidValidity: string; uids: number[]; unnamed: number }> {
  const lock = await client.getMailboxLock(folder, { readOnly: true });
  try {
    const uidValidity = String(client.mailbox ? client.mailbox.uidValidity : 0);
    if (!client.mailbox || client.mailbox.exists === 0) return { uidValidity, uids: [], unnamed: 0 };
    const listing = await listAnnounced(client, host, 1, [], () => undefined);
    const uids = [...listing.messages.map((m) => m.uid), ...listing.unreadable.map((u) => u.uid)];
    return { uidValidity, uids, unnamed: listing.unnamed };
  } finally {
    lock.release();
  }
}

async function reconcileFolder(source: ImapFlow, dest: ImapFlow, entry: FolderPlanEntry, ledger: LedgerStore, sourceHost: string): Promise<FolderReconciliation> {
  const { uidValidity, uids, unnamed } = await announcedOf(source, entry.source, sourceHost);
  const handled = await ledger.handledUids(entry.source, uidValidity);
  const copied = await ledger.copiedTally(entry.source, uidValidity);
  const skipped = await ledger.skippedTally(entry.source, uidValidity);
  const onDest = new Set((await uidsOf(dest, entry.dest)).uids);
  const expectedOnDest = await ledger.destUids(entry.dest);
  return {
    source: entry.source, dest: entry.dest, sourceMessages: uids.length + unnamed, ...(unnamed && { unnamed }),
    copied: copied.messages, copiedBytes: copied.bytes, skipped: skipped.messages, skippedBytes: skipped.bytes,
    notCopied: uids.filter((uid) => !handled.has(uid)),
    missingOnDest: [...expectedOnDest].filter((uid) => !onDest.has(uid)),
  };
}

async function reconcile(ctx: StepContext): Promise<VerifyResult> {
  const plan = (await folderPlan(ctx)).filter((e) => !e.excluded && e.selectable);
  const ledger = dbLedger(ctx.db, ctx.mailbox.id);
  return withBothSides(ctx, async (source, dest) => {
    const folders: FolderReconciliation[] = [];
    for (const entry of plan) folders.push(await reconcileFolder(source, dest, entry, ledger, source.host));
    return { clean: folders.every((f) => f.notCopied.length === 0 && f.missingOnDest.length === 0 && !f.unnamed), folders };
  });
}

export const verify: Step = {
  id: 'verify',
  level: 'mailbox',
  title: 'Verify',
  async run(ctx) {
    if (fromFiles(ctx)) {
      const files = await filesVerified(ctx);
      await ctx.save({ verify_result: JSON.stringify(files.result) });
      return files.outcome;
    }
    let result = await reconcile(ctx);
    if (result.folders.some((f) => f.notCopied.length > 0)) {
      // Mail that arrived since the copy is not a defect: top it up, then count again.
      await copyPass(ctx);
      result = await reconcile(ctx);
    }
    await ctx.save({ verify_result: JSON.stringify(result) });
    const copied = result.folders.reduce((n, f) => n + f.copied, 0);
    const skipped = result.folders.reduce((n, f) => n + f.skipped, 0);
    const missing = result.folders.reduce((n, f) => n + f.missingOnDest.length + f.notCopied.length + (f.unnamed ?? 0), 0);
    return done(result.clean ? `clean: ${copied} messages on the destination, ${skipped} on the skip list` : `${missing} messages unaccounted for (listed on the mailbox page)`);
  },
};
