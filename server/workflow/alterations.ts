import type { CopyReport } from '../mail/copy.ts';
import type { StepContext } from './types.ts';

const LISTED = 1000;

/**
 * A copy the destination stored otherwise than it was sent (a date it replaced, 8-bit header
 * bytes it rewrote, flags it dropped) is not lost, so the step still ends done; but the admin is
 * told, message by message, on the mailbox's timeline.
 */
export async function noteAlterations(ctx: Pick<StepContext, 'note'>, report: CopyReport): Promise<void> {
  if (!report.altered) return;
  const lines = report.folders.flatMap((f) => f.altered.map((a) => `${f.source} UID ${a.uid} → ${f.dest}${a.destUid ? ` UID ${a.destUid}` : ''}: ${a.changes.join('; ')}`));
  const more = lines.length > LISTED ? `\n… and ${lines.length - LISTED} more (in the report)` : '';
  await ctx.note(`Warning: the destination stored ${report.altered} message(s) otherwise than they were sent:\n${lines.slice(0, LISTED).join('\n')}${more}`);
}
