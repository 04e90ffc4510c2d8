import type { Db } from '../db/knex.ts';

export interface IdleVerdict {
  /** Nothing left that this run should wait for. */
  done: boolean;
  /** When the earliest thing worth waiting for is due (ms epoch); meaningful when !done. */
  nextDueAt: number;
}

/**
 * Whether `run --until-idle` may stop: not while a retry is due before `waitUntil`, nor while a
 * mailbox waits on a domain step that another live worker holds or has just finished (it is due
 * in seconds, and the holder may have let go between this mailbox's look and ours), nor while
 * another worker's lease holds a mailbox: it either finishes it or dies, and a dead holder's
 * mailbox is this run's to take over once the lease runs out.
 */
export async function idleVerdict(db: Db, now: number, waitUntil: number, projectId?: number): Promise<IdleVerdict> {
  const scoped = (table: string) => db(table)
    .join('projects', 'projects.id', 'mailboxes.project_id')
    .andWhere('projects.state', 'active')
    .modify((q) => { if (projectId !== undefined) q.andWhere('mailboxes.project_id', projectId); });
  const [retry] = await scoped('mailboxes').where('mailboxes.state', 'retrying').andWhere('mailboxes.next_run_at', '<=', waitUntil).min({ at: 'mailboxes.next_run_at' });
  const [domainWait] = await scoped('mailboxes')
    .join('domains', 'domains.id', 'mailboxes.domain_id')
    .leftJoin('domain_steps', (j) => j.on('domain_steps.domain_id', 'mailboxes.domain_id').andOn('domain_steps.step', 'mailboxes.step'))
    .where('mailboxes.state', 'waiting')
    .andWhere((q) => q.where('domains.locked_until', '>=', now).orWhere('domain_steps.status', 'done'))
    .min({ at: 'mailboxes.next_run_at' });
  const [leased] = now < waitUntil
    ? await scoped('mailboxes').whereNotNull('mailboxes.locked_until').andWhere('mailboxes.locked_until', '>=', now).min({ at: 'mailboxes.locked_until' })
    : [undefined];
  const due = [retry?.at, domainWait?.at, leased?.at].filter((v) => v !== null && v !== undefined).map(Number);
  return due.length ? { done: false, nextDueAt: Math.min(...due) } : { done: true, nextDueAt: 0 };
}

export interface LeftBehind { state: string; count: number; nextRunAt: number | null }

/** What a finished `--until-idle` run leaves unfinished, by state, with the earliest next run. */
export async function leftBehind(db: Db, projectId?: number): Promise<LeftBehind[]> {
  const rows = await db('mailboxes')
    .select('state').count({ n: '*' }).min({ next: 'next_run_at' })
    .whereNotIn('state', ['done'])
    .modify((q) => { if (projectId !== undefined) q.andWhere('project_id', projectId); })
    .groupBy('state').orderBy('state');
  return (rows as Array<{ state: string; n: number | string; next: number | string | null }>).map((r) => ({
    state: r.state, count: Number(r.n), nextRunAt: r.next === null || Number(r.next) === 0 ? null : Number(r.next),
  }));
}
