// What paces a workflow copy pass: the project's bandwidth cap, its source platform's per-host cap,
// and the copy window's closing time; plus the per-minute throughput the charts draw.
import { CutoverError } from '../errors.ts';
import { hostBucket, TokenBucket, type Pace } from '../mail/bandwidth.ts';
import type { CopyProgress } from '../mail/copy.ts';
import type { Db } from '../db/knex.ts';
import { closesAt, nextOpening } from './window.ts';
import type { StepContext } from './types.ts';

// One bucket per project in this process: the project's mailboxes copying at once share its cap.
const projectBuckets = new Map<string, TokenBucket>();

/**
 * A cap is the fleet's, not each process's: a worker paces at its share of it, the cap divided by
 * the workers that hold a lease on a mailbox the cap covers (this one included).
 */
export async function fleetShare(db: Db, scope: { projectId: number } | { sourcePlatformId: number }, now: number): Promise<number> {
  const query = db('mailboxes').whereNotNull('mailboxes.locked_by').andWhere('mailboxes.locked_until', '>=', now);
  if ('projectId' in scope) query.andWhere('mailboxes.project_id', scope.projectId);
  else query.join('projects', 'projects.id', 'mailboxes.project_id').andWhere('projects.source_platform_id', scope.sourcePlatformId);
  const [row] = await query.countDistinct({ n: 'mailboxes.locked_by' });
  return Math.max(1, Number(row?.n ?? 0));
}

const MIN_SHARE_BYTES_PER_SECOND = 1024;
const shareOf = (cap: number, workers: number) => Math.max(MIN_SHARE_BYTES_PER_SECOND, Math.floor(cap / workers));

export async function passPace(ctx: StepContext, sourceHost: string, now = Date.now()): Promise<Pace> {
  const buckets: TokenBucket[] = [];
  const cap = ctx.options.maxBytesPerSecond;
  if (cap) {
    const rate = shareOf(cap, await fleetShare(ctx.db, { projectId: ctx.project.id }, now));
    const key = `${ctx.project.id}|${rate}`;
    if (!projectBuckets.has(key)) projectBuckets.set(key, new TokenBucket(rate));
    buckets.push(projectBuckets.get(key)!);
  }
  const platform = await ctx.db('platforms').where({ id: ctx.project.source_platform_id }).first('max_bytes_per_second');
  const hostCap = Number(platform?.max_bytes_per_second ?? 0);
  if (hostCap > 0) buckets.push(hostBucket(sourceHost, shareOf(hostCap, await fleetShare(ctx.db, { sourcePlatformId: ctx.project.source_platform_id }, now))));
  const window = ctx.options.copyWindow;
  const stopAt = window ? closesAt(window, now) : undefined;
  const closed = () => new CutoverError('COPY_WINDOW_CLOSED', {
    project: ctx.project.name, closedAt: `${window!.to} (${window!.timeZone})`, opensAt: new Date(nextOpening(window!, Date.now())).toISOString(),
  }, { retryable: true });
  return { buckets, ...(stopAt !== undefined && { stopAt, closed }) };
}

/** Adds what a pass copied to its mailbox's per-minute sample (the project's throughput chart sums them). */
export function throughputRecorder(db: Db, mailboxId: number, projectId: number): { onProgress(p: CopyProgress): void; flush(): Promise<void> } {
  let minute = Math.floor(Date.now() / 60_000);
  let last = { messages: 0, bytes: 0 };
  let pending = { messages: 0, bytes: 0 };
  let writing: Promise<void> = Promise.resolve();
  const write = (at: number, add: { messages: number; bytes: number }) => {
    if (!add.messages && !add.bytes) return;
    writing = writing.then(async () => {
      const key = { mailbox_id: mailboxId, minute: at };
      const updated = await db('progress_samples').where(key).update({ messages: db.raw('messages + ?', [add.messages]), bytes: db.raw('bytes + ?', [add.bytes]) });
      if (!updated) await db('progress_samples').insert({ ...key, project_id: projectId, ...add });
    }).catch(() => undefined);
  };
  return {
    onProgress(p) {
      pending = { messages: pending.messages + p.totalCopied - last.messages, bytes: pending.bytes + p.totalBytes - last.bytes };
      last = { messages: p.totalCopied, bytes: p.totalBytes };
      const now = Math.floor(Date.now() / 60_000);
      if (now !== minute) { write(minute, pending); pending = { messages: 0, bytes: 0 }; minute = now; }
    },
    async flush() { write(minute, pending); pending = { messages: 0, bytes: 0 }; await writing; },
  };
}
