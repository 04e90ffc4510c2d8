import { writeFileSync } from 'node:fs';
import cron from 'node-cron';
import type { AppContext } from '../context.ts';
import { domainById, domainStep, type DomainRow, lockDomain, renewDomainLock, saveDomainStep, unlockDomain } from '../db/repos/domains.ts';
import { heartbeatWorker, markWorkerStopped } from '../db/repos/workers.ts';
import { recordEvent } from '../db/repos/events.ts';
import { mailboxById, updateMailbox, RUNNABLE_STATES, type MailboxRow } from '../db/repos/mailboxes.ts';
import { projectOptions, projectForStep } from '../db/repos/projects.ts';
import { crashpoint } from '../crashpoint.ts';
import type { Logger } from '../log.ts';
import { startNotifier } from '../notify/timer.ts';
import { toCutoverError, type CutoverError } from '../errors.ts';
import { claimDue, HEARTBEAT_MS, LEASE_MS, releaseLease, renewLease, renewLeases, workerHost, workerId } from './lease.ts';
import { idleVerdict } from './idle.ts';
import { admitClaimed } from './window.ts';
import { dbHostGate } from './host-gate.ts';
import { installHostGate } from '../mail/host-slots.ts';
import { persistOutcome, queuesNextStep } from './outcome.ts';
import { stepById } from './steps/index.ts';
import { done, waitUntil, type Step, type StepContext, type StepOutcome } from './types.ts';

/** How soon a mailbox whose domain step another worker is running looks again. */
const DOMAIN_BUSY_RECHECK_MS = 2_000;

/** What one claim of a mailbox reads once for all the steps it runs (a domain row never changes). */
interface Held { domain?: DomainRow; log?: Logger }

// One query for the project and its platforms' sealed configs: the connectors are built once per
// platform config and reused by every step of every mailbox until an admin edits the platform.
async function buildContext(app: AppContext, mailbox: MailboxRow, held: Held): Promise<StepContext> {
  const { project, sourceSealed, destSealed, sourceLabel, destLabel } = await projectForStep(app.db, mailbox.project_id);
  held.domain ??= await domainById(app.db, mailbox.domain_id);
  const ctx: StepContext = {
    db: app.db, box: app.box, log: held.log ??= app.log.child({ mailbox: mailbox.address }), project, options: projectOptions(project), mailbox,
    domain: held.domain,
    source: await app.connector(project.source_platform_id, sourceSealed),
    dest: await app.connector(project.dest_platform_id, destSealed),
    platformLabels: { source: sourceLabel, dest: destLabel },
    now: () => Date.now(),
    async save(patch) {
      await updateMailbox(app.db, mailbox.id, patch);
      Object.assign(ctx.mailbox, patch);
    },
    note: (message) => recordEvent(app.db, { projectId: project.id, mailboxId: mailbox.id, domainId: mailbox.domain_id, step: mailbox.step, outcome: 'progress', message, actor: 'worker' }),
  };
  return ctx;
}

const domainStepsInFlight = new Map<string, Promise<StepOutcome>>();

// The first mailbox of a domain to reach a domain step runs it; mailboxes of the same domain
// arriving meanwhile in this process share that run, and later ones find the shared row done.
// Across processes and hosts the domain row is the lock: a worker that cannot take it waits.
function runDomainStep(ctx: StepContext, step: Step, worker: string): Promise<StepOutcome> {
  const key = `${ctx.domain.id}:${step.id}`;
  if (!domainStepsInFlight.has(key)) {
    domainStepsInFlight.set(key, runDomainStepLocked(ctx, step, worker).finally(() => domainStepsInFlight.delete(key)));
  }
  return domainStepsInFlight.get(key)!;
}

async function runDomainStepLocked(ctx: StepContext, step: Step, worker: string): Promise<StepOutcome> {
  const finished = await sharedDone(ctx, step);
  if (finished) return finished;
  if (!await lockDomain(ctx.db, ctx.domain.id, worker, Date.now(), LEASE_MS)) {
    return waitUntil(Date.now() + DOMAIN_BUSY_RECHECK_MS, `waiting on ${step.id} of ${ctx.domain.name}: another worker is running it`);
  }
  const renew = setInterval(() => { renewDomainLock(ctx.db, ctx.domain.id, worker, Date.now(), LEASE_MS).catch(() => undefined); }, HEARTBEAT_MS);
  renew.unref();
  try {
    // The holder before us may have finished between our first look and taking the lock.
    return (await sharedDone(ctx, step)) ?? await runDomainStepOnce(ctx, step);
  } finally {
    clearInterval(renew);
    await unlockDomain(ctx.db, ctx.domain.id, worker);
  }
}

async function sharedDone(ctx: StepContext, step: Step): Promise<StepOutcome | undefined> {
  const shared = await domainStep(ctx.db, ctx.domain.id, step.id);
  if (shared?.status !== 'done') return undefined;
  return done(shared.confirmed_by ? `confirmed for ${ctx.domain.name} by ${shared.confirmed_by}` : `done for ${ctx.domain.name}`);
}

async function runDomainStepOnce(ctx: StepContext, step: Step): Promise<StepOutcome> {
  const shared = await domainStep(ctx.db, ctx.domain.id, step.id);
  const outcome = await step.run(ctx);
  const status = outcome.kind === 'done' ? 'done' : 'waiting';
  const detail = outcome.kind === 'manual' ? outcome.instructions : outcome.message;
  await saveDomainStep(ctx.db, ctx.domain.id, step.id, { status, detail, completed_at: status === 'done' ? new Date().toISOString() : null });
  if (status === 'done' || shared?.detail !== detail) {
    await recordEvent(ctx.db, { projectId: ctx.project.id, domainId: ctx.domain.id, step: step.id, outcome: status, message: detail, actor: 'worker' });
  }
  // The domain's event carries the detail; each mailbox's own timeline just points to it.
  if (outcome.kind === 'wait') return { ...outcome, message: `waiting on ${step.id} of ${ctx.domain.name}` };
  return outcome;
}

/** Runs the mailbox's current step once and gives its lease back (tests and single steps). */
export async function runMailboxStep(app: AppContext, mailboxId: number, worker: string): Promise<void> {
  const renew = setInterval(() => { renewLease(app.db, mailboxId, worker).catch(() => undefined); }, HEARTBEAT_MS);
  renew.unref();
  let released = false;
  try {
    released = (await runHeldStep(app, await mailboxById(app.db, mailboxId), worker, {}, { first: true, goOn: false })).released;
  } finally {
    clearInterval(renew);
    if (!released) await releaseLease(app.db, mailboxId, worker);
  }
}

/**
 * Runs a claimed mailbox's steps one after another while each queues the next at once, under the
 * one lease (the worker's heartbeat renews it); the last outcome's update gives the lease back.
 * A step that waits, fails or needs an admin, an admin's pause, or the worker stopping ends it.
 */
async function runClaimedMailbox(app: AppContext, mailboxId: number, worker: string, signal: AbortSignal | undefined): Promise<void> {
  const held: Held = {};
  let ran: StepRun = { released: false, next: await mailboxById(app.db, mailboxId) };
  try {
    for (let first = true; ran.next; first = false) ran = await runHeldStep(app, ran.next, worker, held, { first, goOn: !signal?.aborted });
  } finally {
    if (!ran.released) await releaseLease(app.db, mailboxId, worker);
  }
}

// released: the outcome's update gave the lease back. next: the row as that update left it, when
// it queued the next step and the lease is still held (it carries an admin's changes made meanwhile).
interface StepRun { released: boolean; next?: MailboxRow }

async function runHeldStep(app: AppContext, row: MailboxRow, worker: string, held: Held, opts: { first: boolean; goOn: boolean }): Promise<StepRun> {
  if (!RUNNABLE_STATES.includes(row.state)) return { released: false };
  const step = stepById(row.step);
  let outcome: StepOutcome | CutoverError;
  try {
    const ctx = await buildContext(app, row, held);
    // The claim looked at the project for the first step; a project no longer active ends the run.
    if (!opts.first && ctx.project.state !== 'active') return { released: false };
    outcome = step.level === 'domain' ? await runDomainStep(ctx, step, worker) : await step.run(ctx);
  } catch (err) {
    outcome = toCutoverError(err);
    app.log.debug({ err, mailboxId: row.id, step: step.id }, 'step failed');
  }
  // The worst instant to die: the step's effect exists, the row does not say so yet.
  crashpoint(`step-done:${step.id}`);
  const goOn = opts.goOn && queuesNextStep(step, outcome);
  const after = await persistOutcome(app.db, row, step, outcome, Date.now(), goOn ? undefined : worker);
  return goOn ? { released: false, next: after } : { released: true };
}

export interface WorkerOptions {
  concurrency?: number;
  projectId?: number;
  /**
   * Return once nothing is due now. Retries due within `maxWaitMs` and mailboxes waiting on a
   * domain step another worker is running are waited for; later waits (DNS, overlap windows) are not.
   */
  untilIdle?: boolean;
  /** With untilIdle: how far ahead a retry may be due and still be waited for (default 5 min). */
  maxWaitMs?: number;
  /** Checked whenever the worker is idle; true ends the loop. */
  stopWhen?: () => Promise<boolean>;
  signal?: AbortSignal;
}

const IDLE_POLL_MS = 1_000;
const DEFAULT_MAX_WAIT_MS = 5 * 60_000;

/** The worker loop: claim due mailboxes, run one step each, persist, repeat. */
export async function runWorker(app: AppContext, options: WorkerOptions = {}): Promise<void> {
  const worker = workerId();
  const concurrency = options.concurrency ?? 4;
  const started = Date.now();
  // Connection caps per mail host count every worker's connections: slots are rows renewed with the heartbeat.
  const hostGate = dbHostGate(app.db, worker);
  installHostGate(hostGate);
  const beat = async () => {
    const now = Date.now();
    await heartbeatWorker(app.db, { id: worker, host: workerHost(), pid: process.pid }, now);
    await hostGate.renew(now);
    await renewLeases(app.db, worker, now);
  };
  await beat();
  const heartbeat = setInterval(() => { beat().catch((err) => app.log.warn({ err }, 'worker heartbeat failed')); }, HEARTBEAT_MS);
  heartbeat.unref();
  const stats = workerStats(app);
  const running = new Map<number, Promise<void>>();
  let wake: () => void = () => undefined;
  // The scheduler: besides the loop's own polling, a cron tick wakes it for due re-checks (DNS waits).
  const tick = cron.schedule('*/10 * * * * *', () => wake());
  // Notification mails on a timer of their own: a slow mail server never holds the loop.
  const notifier = startNotifier(app);
  try {
    while (!options.signal?.aborted) {
      const free = concurrency - running.size;
      const claimedAt = Date.now();
      const claimed = free > 0 ? await admitClaimed(app.db, worker, await claimDue(app.db, worker, free, claimedAt, options.projectId)) : [];
      for (const id of claimed) {
        const job = runClaimedMailbox(app, id, worker, options.signal).catch((err) => app.log.error({ err, id }, 'worker job crashed')).finally(() => running.delete(id));
        running.set(id, job);
      }
      if (running.size > 0) {
        await Promise.race(running.values());
        continue;
      }
      if (claimed.length > 0) continue;
      let pollMs = IDLE_POLL_MS;
      if (options.untilIdle) {
        // Judged at the claim's instant: a lease that ran out between the claim and this look was not
        // claimable to that claim, and is now; judged later, it counted as neither, and the worker
        // left a dead worker's mailboxes behind as "idle".
        const verdict = await idleVerdict(app.db, claimedAt, started + (options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS), options.projectId);
        if (verdict.done) return;
        pollMs = Math.min(IDLE_POLL_MS, Math.max(50, verdict.nextDueAt - Date.now()));
      }
      if (options.stopWhen && await options.stopWhen()) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollMs);
        wake = () => { clearTimeout(timer); resolve(); };
        options.signal?.addEventListener('abort', wake, { once: true });
      });
    }
  } finally {
    tick.stop();
    await Promise.allSettled(running.values());
    clearInterval(heartbeat);
    installHostGate(undefined);
    await hostGate.close().catch(() => undefined);
    await markWorkerStopped(app.db, worker, Date.now()).catch(() => undefined);
    stats?.write();
    await notifier.stop();
  }
}

// For the fleet benchmark (CUTOVER_STATS_FILE): this worker's database queries, CPU and peak memory, written when it stops.
function workerStats(app: AppContext): { write(): void } | undefined {
  const file = process.env.CUTOVER_STATS_FILE;
  if (!file) return undefined;
  let queries = 0;
  const bySql = new Map<string, number>();
  const detail = process.env.CUTOVER_STATS_SQL === '1';
  app.db.on('query', (q: { sql: string }) => { queries++; if (detail) bySql.set(q.sql, (bySql.get(q.sql) ?? 0) + 1); });
  return {
    write() {
      const usage = process.resourceUsage();
      writeFileSync(file, JSON.stringify({ queries, cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000, maxRssKb: usage.maxRSS, ...(detail && { bySql: [...bySql].sort((a, b) => b[1] - a[1]) }) }));
    },
  };
}
