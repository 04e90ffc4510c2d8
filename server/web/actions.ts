import type { AppContext } from '../context.ts';
import type { MailboxState } from '../db/repos/mailboxes.ts';
import { projectAction, type MailboxAction } from '../services/actions.ts';

/** The actions the pages offer on one mailbox, in button order, and the subset offered in bulk. */
export const MAILBOX_ACTIONS: MailboxAction[] = ['pause', 'resume', 'stop', 'retry', 'confirm'];
export const BULK_ACTIONS: MailboxAction[] = ['start', 'resume', 'pause', 'stop', 'retry', 'sync'];

export function isMailboxAction(value: unknown, allowed: MailboxAction[] = MAILBOX_ACTIONS): value is MailboxAction {
  return typeof value === 'string' && (allowed as string[]).includes(value);
}

export function webActor(userName: string | undefined): string {
  return `web:${userName ?? '?'}`;
}

/** Applies one action to every mailbox of a project (optionally only those in one state); see {@link projectAction}. */
export function bulkAction(app: AppContext, projectId: number, action: MailboxAction, state: MailboxState | undefined, actor: string): Promise<{ done: number; skipped: number }> {
  return projectAction(app, projectId, action, state, actor);
}
