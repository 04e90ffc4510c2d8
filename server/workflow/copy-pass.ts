import { copyMailbox, MIN_BUDGET, type CopyReport } from '../mail/copy.ts';
import { dbLedger } from '../mail/ledger.ts';
import { finishSyncPoint, startSyncPoint } from '../db/repos/sync-points.ts';
import { destEndpoint, sourceEndpoint } from './endpoints.ts';
import { folderPlan } from './folder-plan.ts';
import { recordMirror } from './mirror-event.ts';
import { noteAlterations } from './alterations.ts';
import type { StepContext } from './types.ts';
import { passPace, throughputRecorder } from './pass-pace.ts';

const PROGRESS_EVERY_MS = 5_000;

/**
 * One pass of the copy engine for a mailbox: the initial copy, a verify top-up or a delta sync.
 * Each pass is a sync point: its number is on every ledger row it writes, its times on a row of its own.
 */
export async function copyPass(ctx: StepContext): Promise<CopyReport> {
  const pass = ctx.mailbox.sync_passes + 1;
  await startSyncPoint(ctx.db, ctx.mailbox.id, pass, ctx.mailbox.step);
  const plan = await folderPlan(ctx);
  let lastNote = Date.now();
  let pending: Promise<void> = Promise.resolve();
  const source = await sourceEndpoint(ctx);
  const throughput = throughputRecorder(ctx.db, ctx.mailbox.id, ctx.project.id);
  const report = await copyMailbox({
    source,
    pace: await passPace(ctx, source.host),
    dest: await destEndpoint(ctx),
    plan,
    ledger: dbLedger(ctx.db, ctx.mailbox.id),
    pass,
    selection: { maxMessageBytes: smallest(ctx.options.maxMessageBytes, ctx.source.capabilities.maxMessageBytes, ctx.dest.capabilities.maxMessageBytes) },
    log: ctx.log,
    stallSeconds: ctx.options.stallTimeoutSeconds,
    // A worker runs several mailboxes at once (runner.ts): each keeps the smallest budget, so the worker's memory stays what it was.
    memoryBudgetBytes: MIN_BUDGET,
    // Known copies follow the source (flags, expunges, moves); the project option keeps every copy.
    mirror: { deletes: ctx.options.mirrorDeletes },
    onProgress: (progress) => {
      const { folder, copied } = progress;
      throughput.onProgress(progress);
      if (Date.now() - lastNote < PROGRESS_EVERY_MS) return;
      lastNote = Date.now();
      pending = pending.then(() => ctx.note(`pass ${pass}: ${folder}: ${copied} copied`));
    },
  }).finally(() => throughput.flush());
  await pending;
  await recordMirror(ctx, pass, report.mirror);
  await noteAlterations(ctx, report);
  await finishSyncPoint(ctx.db, ctx.mailbox.id, pass);
  await ctx.save({ sync_passes: pass, last_sync_at: new Date().toISOString() });
  return report;
}

function smallest(...limits: Array<number | undefined>): number | undefined {
  const given = limits.filter((l): l is number => typeof l === 'number');
  return given.length ? Math.min(...given) : undefined;
}
