import { planFolders, type FolderPlanEntry } from '../mail/folders.ts';
import { folderSide } from '../mail/inventory.ts';
import { CutoverError } from '../errors.ts';
import { withBothSides } from './endpoints.ts';
import type { StepContext } from './types.ts';

/** The folder plan is made once, stored on the row (where an admin may edit it) and reused by every pass. */
export async function folderPlan(ctx: StepContext): Promise<FolderPlanEntry[]> {
  if (ctx.mailbox.folder_plan) return JSON.parse(ctx.mailbox.folder_plan) as FolderPlanEntry[];
  return withBothSides(ctx, async (source, dest) => {
    const sourceSide = await folderSide(source);
    const unknown = ctx.options.excludeFolders.filter((name) => !sourceSide.folders.some((f) => f.path === name));
    if (unknown.length) throw new CutoverError('INPUT_INVALID', { detail: `excluded folder(s) not found on the source: ${unknown.join(', ')}` });
    const plan = planFolders(sourceSide, await folderSide(dest), { exclude: ctx.options.excludeFolders });
    await ctx.save({ folder_plan: JSON.stringify(plan) });
    return plan;
  });
}
