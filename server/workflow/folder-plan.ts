import type { FolderPlanEntry } from '../mail/folders.ts';
import { folderSide } from '../mail/inventory.ts';
import { buildFolderPlan } from '../mail/plan.ts';
import { withBothSides } from './endpoints.ts';
import { applyPlanOverride, loadPlanOverride } from './plan-override.ts';
import type { StepContext } from './types.ts';

/**
 * The folder plan is made once, when the first copy pass starts, with the admin's changes on top
 * (edited before the copy, from preflight on), stored on the row and reused by every pass.
 */
export async function folderPlan(ctx: StepContext): Promise<FolderPlanEntry[]> {
  if (ctx.mailbox.folder_plan) return JSON.parse(ctx.mailbox.folder_plan) as FolderPlanEntry[];
  const override = await loadPlanOverride(ctx.db, ctx.mailbox.id);
  return withBothSides(ctx, async (source, dest) => {
    // The source's provider decides what its IMAP view shows that is not mail (Gmail's All Mail, Exchange's Calendar…).
    const computed = await buildFolderPlan(source, dest, ctx.options.excludeFolders, 'the source', ctx.source.capabilities.provider);
    const plan = Object.keys(override).length ? applyPlanOverride(computed, override, (await folderSide(dest)).namespace) : computed;
    await ctx.save({ folder_plan: JSON.stringify(plan) });
    return plan;
  });
}
