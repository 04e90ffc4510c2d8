import { recordEvent } from '../db/repos/events.ts';
import type { MirrorReport } from '../mail/delta/mirror.ts';
import { describeMirror } from '../mail/delta/summary.ts';
import type { StepContext } from './types.ts';

/** What a pass changed on the destination besides new mail goes on the mailbox's timeline, with the counts per kind. */
export async function recordMirror(ctx: StepContext, pass: number, report: MirrorReport | undefined): Promise<void> {
  const line = describeMirror(report);
  if (!line) return;
  await recordEvent(ctx.db, {
    projectId: ctx.project.id, mailboxId: ctx.mailbox.id, domainId: ctx.mailbox.domain_id, step: ctx.mailbox.step,
    outcome: 'mirrored', message: `pass ${pass}: ${line}`, actor: 'worker',
  });
}
