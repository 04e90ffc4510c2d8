import type { AppContext } from '../context.ts';
import type { MailboxState } from '../db/repos/mailboxes.ts';
import { CutoverError } from '../errors.ts';
import { mailboxAction, type MailboxAction } from '../services/actions.ts';

/** The actions the pages offer on one mailbox, in button order, and the subset offered in bulk. */
export const MAILBOX_ACTIONS: MailboxAction[] = ['pause', 'resume', 'stop', 'retry', 'confirm'];
export const BULK_ACTIONS: MailboxAction[] = ['resume', 'pause', 'stop', 'retry'];

export function isMailboxAction(value: unknown, allowed: MailboxAction[] = MAILBOX_ACTIONS): value is MailboxAction {
  return typeof value === 'string' && (allowed as string[]).includes(value);
}

export function webActor(userName: string | undefined): string {
  return `web:${userName ?? '?'}`;
}

/**
 * Applies one action to every mailbox of a project (optionally only those in one state), through
 * the same service as the CLI, so each change is checked and recorded as an event with its actor.
 * Mailboxes the action does not apply to are counted and left as they are.
 */
export async function bulkAction(app: AppContext, projectId: number, action: MailboxAction, state: MailboxState | undefined, actor: string): Promise<{ done: number; skipped: number }> {
  const query = app.db('mailboxes').where({ project_id: projectId }).select('id').orderBy('id');
  if (state) query.andWhere({ state });
  let done = 0;
  let skipped = 0;
  for (const { id } of (await query) as Array<{ id: number }>) {
    try {
      await mailboxAction(app, String(id), action, actor);
      done++;
    } catch (err) {
      if (!(err instanceof CutoverError) || err.code !== 'ACTION_NOT_ALLOWED') throw err;
      skipped++;
    }
  }
  return { done, skipped };
}
