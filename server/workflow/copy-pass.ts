import { copyMailbox, type CopyReport } from '../mail/copy.ts';
import { dbLedger } from '../mail/ledger.ts';
import { destEndpoint, sourceEndpoint } from './endpoints.ts';
import { folderPlan } from './folder-plan.ts';
import type { StepContext } from './types.ts';

const PROGRESS_EVERY_MS = 5_000;

/** One pass of the copy engine for a mailbox: the initial copy, a verify top-up or a delta sync. */
export async function copyPass(ctx: StepContext): Promise<CopyReport> {
  const plan = await folderPlan(ctx);
  const pass = ctx.mailbox.sync_passes + 1;
  let lastNote = Date.now();
  let pending: Promise<void> = Promise.resolve();
  const report = await copyMailbox({
    source: await sourceEndpoint(ctx),
    dest: await destEndpoint(ctx),
    plan,
    ledger: dbLedger(ctx.db, ctx.mailbox.id),
    pass,
    selection: { maxMessageBytes: ctx.options.maxMessageBytes },
    log: ctx.log,
    onProgress: ({ folder, copied }) => {
      if (Date.now() - lastNote < PROGRESS_EVERY_MS) return;
      lastNote = Date.now();
      pending = pending.then(() => ctx.note(`pass ${pass}: ${folder}: ${copied} copied`));
    },
  });
  await pending;
  await ctx.save({ sync_passes: pass, last_sync_at: new Date().toISOString() });
  return report;
}
