import type { FolderPlanEntry } from '../mail/folders.ts';
import { buildFolderPlan } from '../mail/plan.ts';
import { withBothSides } from './endpoints.ts';
import type { StepContext } from './types.ts';

/** The folder plan is made once, stored on the row (where an admin may edit it) and reused by every pass. */
export async function folderPlan(ctx: StepContext): Promise<FolderPlanEntry[]> {
  if (ctx.mailbox.folder_plan) return JSON.parse(ctx.mailbox.folder_plan) as FolderPlanEntry[];
  return withBothSides(ctx, async (source, dest) => {
    const plan = await buildFolderPlan(source, dest, ctx.options.excludeFolders, 'the source');
    await ctx.save({ folder_plan: JSON.stringify(plan) });
    return plan;
  });
}
