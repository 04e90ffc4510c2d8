import type { ImapFlow } from 'imapflow';
import { uidSet } from '../mail/wire/syntax.ts';
import type { Knex } from 'knex';
import type { AppContext } from '../context.ts';
import type { Db } from '../db/knex.ts';
import { recordEvent } from '../db/repos/events.ts';
import { mailboxById, type MailboxRow } from '../db/repos/mailboxes.ts';
import { projectById } from '../db/repos/projects.ts';
import { syncPointRows } from '../db/repos/sync-points.ts';
import { CutoverError } from '../errors.ts';
import { closeQuietly, mapImapError, openImap } from '../mail/imap.ts';
import { withMailboxHeld } from './mailbox-hold.ts';

/**
 * "Delete what was migrated since sync point N". A sync point is one copy pass (the initial copy,
 * a verify top-up, each delta pass): the ledger stamps every row with the pass that copied it.
 * Since N means pass N and every later pass. Only the destination is touched, only messages the
 * ledger says the migration put there (by their destination UIDs), and their ledger rows go too,
 * so a later pass copies them again. Mail delivered to the destination directly has no ledger row
 * and is never touched.
 */

export interface SyncPoint { pass: number; step: string | null; startedAt: string | null; finishedAt: string | null; rolledBackAt: string | null; messages: number; bytes: number }

export interface RollbackPlan {
  since: number;
  messages: number;
  bytes: number;
  folders: Array<{ folder: string; messages: number; bytes: number }>;
  /** Copied without a destination UID (a server without UIDPLUS): cannot be deleted one by one, left in place. */
  withoutUid: number;
}

export interface RollbackResult extends RollbackPlan { deleted: number; alreadyGone: number }

type Tally = { n: number | string; bytes: number | string | null };

/** Every sync point of a mailbox with the messages the ledger still holds from it; passes from before sync points were timed have no times. */
export async function syncPoints(db: Db, mailboxId: number): Promise<SyncPoint[]> {
  const timed = await syncPointRows(db, mailboxId);
  const counted: Array<Tally & { pass: number }> = await db('ledger').where({ mailbox_id: mailboxId }).groupBy('pass').select('pass').count({ n: '*' }).sum({ bytes: 'size' });
  const passes = [...new Set([...timed.map((t) => Number(t.pass)), ...counted.map((c) => Number(c.pass))])].sort((a, b) => a - b);
  return passes.map((pass) => {
    const t = timed.find((r) => Number(r.pass) === pass);
    const c = counted.find((r) => Number(r.pass) === pass);
    return {
      pass, step: t?.step ?? null, startedAt: t?.started_at ?? null, finishedAt: t?.finished_at ?? null, rolledBackAt: t?.rolled_back_at ?? null,
      messages: Number(c?.n ?? 0), bytes: Number(c?.bytes ?? 0),
    };
  });
}

function since(mailboxId: number, pass: number) {
  return (q: Knex.QueryBuilder) => q.where({ mailbox_id: mailboxId }).andWhere('pass', '>=', pass);
}

async function planFor(db: Db, row: MailboxRow, pass: number): Promise<RollbackPlan> {
  if (!Number.isInteger(pass) || pass < 1 || !(await syncPoints(db, row.id)).some((p) => p.pass === pass)) {
    throw new CutoverError('SYNC_POINT_UNKNOWN', { address: row.address, pass: String(pass) });
  }
  const folders: Array<Tally & { folder: string; missing: number | string | null }> = await db('ledger').modify(since(row.id, pass))
    .groupBy('dest_folder').select('dest_folder as folder').count({ n: '*' }).sum({ bytes: 'size' })
    .select(db.raw('sum(case when dest_uid is null then 1 else 0 end) as missing')).orderBy('dest_folder');
  const list = folders.map((f) => ({ folder: f.folder, messages: Number(f.n), bytes: Number(f.bytes ?? 0) }));
  return {
    since: pass, folders: list,
    messages: list.reduce((n, f) => n + f.messages, 0), bytes: list.reduce((n, f) => n + f.bytes, 0),
    withoutUid: folders.reduce((n, f) => n + Number(f.missing ?? 0), 0),
  };
}

/** What a rollback since `pass` would delete on the destination, folder by folder: the confirmation page. */
export async function rollbackPlan(app: AppContext, mailboxId: number, pass: number): Promise<RollbackPlan> {
  return planFor(app.db, await mailboxById(app.db, mailboxId), pass);
}

const UIDS_PER_COMMAND = 1000;

/**
 * Deletes on the destination, by destination UID, every message copied since sync point `pass`
 * (UID STORE +FLAGS \Deleted, then UID EXPUNGE of exactly those UIDs), then removes their ledger
 * rows and rewinds the folders' checkpoints so a later pass copies them again. Without `confirm`
 * nothing happens. Refused while a worker holds the mailbox; the source is never opened.
 */
export async function rollback(app: AppContext, mailboxId: number, pass: number, opts: { confirm: boolean; actor: string }): Promise<RollbackResult> {
  const preview = await rollbackPlan(app, mailboxId, pass);
  if (!opts.confirm) {
    throw new CutoverError('CONFIRMATION_REQUIRED', { messages: preview.messages, pass });
  }
  return withMailboxHeld(app, mailboxId, async (row) => {
    const plan = await planFor(app.db, row, pass);
    const lastPass = Math.max(...(await syncPoints(app.db, row.id)).map((p) => p.pass));
    const project = await projectById(app.db, row.project_id);
    const dest = await app.connector(project.dest_platform_id);
    const endpoint = await dest.imapEndpoint(row.address, row.dest_password_sealed ? app.box.open(row.dest_password_sealed) : undefined);
    const done: Array<{ folder: string; deleted: number; gone: number }> = [];
    const client = await openImap(endpoint, app.log);
    try {
      if (!client.capabilities.has('UIDPLUS')) {
        // A plain EXPUNGE would also remove whatever the user had marked \Deleted.
        throw new CutoverError('ROLLBACK_UNSUPPORTED', { host: endpoint.host });
      }
      for (const { folder } of plan.folders) {
        const uids = (await app.db('ledger').modify(since(row.id, pass)).andWhere({ dest_folder: folder }).whereNotNull('dest_uid').pluck('dest_uid')).map(Number);
        const { deleted, gone } = await expungeUids(client, folder, uids, endpoint.host);
        await forgetCopies(app.db, row.id, pass, folder);
        done.push({ folder, deleted, gone });
      }
    } catch (err) {
      if (done.length) await record(app, row, pass, done, opts.actor, 'rollback-partial');
      throw err;
    } finally {
      await closeQuietly(client);
    }
    await app.db('sync_points').modify(since(row.id, pass)).update({ rolled_back_at: new Date().toISOString() });
    // Pass numbers are never reused (a pass cut short had not counted itself yet): the next pass gets a number of its own.
    if (lastPass > Number(row.sync_passes)) await app.db('mailboxes').where({ id: row.id }).update({ sync_passes: lastPass });
    await record(app, row, pass, done, opts.actor, 'rollback');
    return { ...plan, deleted: done.reduce((n, d) => n + d.deleted, 0), alreadyGone: done.reduce((n, d) => n + d.gone, 0) };
  });
}

async function record(app: AppContext, row: MailboxRow, pass: number, done: Array<{ folder: string; deleted: number; gone: number }>, actor: string, outcome: string): Promise<void> {
  const deleted = done.reduce((n, d) => n + d.deleted, 0);
  const gone = done.reduce((n, d) => n + d.gone, 0);
  const folders = done.map((d) => `${d.folder} (${d.deleted})`).join(', ') || 'no folder';
  await recordEvent(app.db, {
    projectId: row.project_id, mailboxId: row.id, domainId: row.domain_id, step: row.step, outcome, actor,
    message: `${outcome === 'rollback' ? '' : 'interrupted: '}deleted on the destination ${deleted} message(s) copied since sync point ${pass}${gone ? ` (${gone} were already gone)` : ''}: ${folders}; the source is untouched`,
  });
}

// Selected read-write; the UIDs that still exist are counted first, so the event says what really went.
async function expungeUids(client: ImapFlow, folder: string, uids: number[], host: string): Promise<{ deleted: number; gone: number }> {
  if (!uids.length) return { deleted: 0, gone: 0 };
  let lock;
  try {
    lock = await client.getMailboxLock(folder);
  } catch (err) {
    // The folder itself is gone (deleted by the user): so are its messages.
    if ((err as { serverResponseCode?: string }).serverResponseCode === 'NONEXISTENT') return { deleted: 0, gone: uids.length };
    throw mapImapError(err, host, `SELECT ${folder}`);
  }
  let deleted = 0;
  try {
    for (let i = 0; i < uids.length; i += UIDS_PER_COMMAND) {
      const set = uidSet(uids.slice(i, i + UIDS_PER_COMMAND));
      const present = await client.search({ uid: set }, { uid: true });
      if (!present || present.length === 0) continue;
      if (!(await client.messageDelete(uidSet(present), { uid: true }))) {
        throw new CutoverError('IMAP_FAILED', { host, command: `UID EXPUNGE in ${folder}`, detail: 'the server refused to delete the messages' }, { retryable: true });
      }
      deleted += present.length;
    }
  } catch (err) {
    throw mapImapError(err, host, `delete in ${folder}`);
  } finally {
    lock.release();
  }
  return { deleted, gone: uids.length - deleted };
}

/** Ledger rows of the deleted copies go, and each source folder's checkpoint moves back to the first of them, so a later pass fetches them again. */
async function forgetCopies(db: Db, mailboxId: number, pass: number, destFolder: string): Promise<void> {
  await db.transaction(async (trx) => {
    const firsts: Array<{ source_folder: string; uidvalidity: string | number; first: number | string }> = await trx('ledger').modify(since(mailboxId, pass))
      .andWhere({ dest_folder: destFolder }).whereNotNull('dest_uid').groupBy('source_folder', 'uidvalidity').select('source_folder', 'uidvalidity').min({ first: 'uid' });
    for (const f of firsts) {
      await trx('checkpoints').where({ mailbox_id: mailboxId, source_folder: f.source_folder, uidvalidity: f.uidvalidity })
        .andWhere('uid_next', '>', Number(f.first)).update({ uid_next: Number(f.first) });
    }
    await trx('ledger').modify(since(mailboxId, pass)).andWhere({ dest_folder: destFolder }).whereNotNull('dest_uid').delete();
  });
}

export { uidSet };
