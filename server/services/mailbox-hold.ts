import type { AppContext } from '../context.ts';
import { mailboxById, type MailboxRow } from '../db/repos/mailboxes.ts';
import { CutoverError } from '../errors.ts';
import { LEASE_MS, releaseLease, renewLease, workerId } from '../workflow/lease.ts';

/**
 * Runs an admin's change to a mailbox (its folder plan, a rollback) under the same lease the
 * workers take: a mailbox a worker holds is refused with MAILBOX_BUSY, and no worker can pick it up
 * while the change runs, so the change never races a copy pass.
 */
export async function withMailboxHeld<T>(app: AppContext, mailboxId: number, work: (row: MailboxRow) => Promise<T>): Promise<T> {
  const holder = workerId();
  const now = Date.now();
  const taken = await app.db('mailboxes').where({ id: mailboxId })
    .andWhere((q) => q.whereNull('locked_until').orWhere('locked_until', '<', now))
    .update({ locked_by: holder, locked_until: now + LEASE_MS });
  if (taken !== 1) {
    const row = await mailboxById(app.db, mailboxId);
    throw new CutoverError('MAILBOX_BUSY', { address: row.address, step: row.step });
  }
  const renew = setInterval(() => { renewLease(app.db, mailboxId, holder).catch(() => undefined); }, LEASE_MS / 3);
  renew.unref();
  try {
    return await work(await mailboxById(app.db, mailboxId));
  } finally {
    clearInterval(renew);
    await releaseLease(app.db, mailboxId, holder);
  }
}
