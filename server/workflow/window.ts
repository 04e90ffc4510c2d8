// When a project's mailboxes may run: its start time (nothing before it) and its daily copy window
// (copy passes only inside it, e.g. 20:00–07:00 Europe/Paris). The worker's claim asks here, so a
// change of the options applies at the next claim, while the project runs.
import type { Db } from '../db/knex.ts';
import { recordEvent } from '../db/repos/events.ts';
import { projectOptionsSchema, type ProjectOptions } from '../db/repos/projects.ts';
import { copyGroupware } from './steps/copy-groupware.ts';
import { copyMail } from './steps/copy-mail.ts';
import { deltaSync } from './steps/delta-sync.ts';
import { verify } from './steps/verify.ts';

/** Steps that run a copy pass: the window holds these, the start time holds every step. (Read lazily: the steps import the copy pass, which imports this file.) */
export function isCopyStep(stepId: string): boolean {
  return [copyMail.id, copyGroupware.id, verify.id, deltaSync.id].includes(stepId);
}
/** Marks the waits this file set, so a change of the schedule can wake exactly those. */
export const SCHEDULE_WAIT_PREFIX = 'schedule: ';

const DAY_MINUTES = 24 * 60;
const MINUTE_MS = 60_000;

export type CopyWindow = NonNullable<ProjectOptions['copyWindow']>;
export type Hold = { until: number; reason: 'start' | 'window'; message: string };

const minutesOf = (clock: string) => Number(clock.slice(0, 2)) * 60 + Number(clock.slice(3, 5));
const formats = new Map<string, Intl.DateTimeFormat>();

/** Minutes since local midnight in `timeZone` at `at`. */
export function localMinutes(timeZone: string, at: number): number {
  if (!formats.has(timeZone)) formats.set(timeZone, new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }));
  const parts = formats.get(timeZone)!.formatToParts(at);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return get('hour') * 60 + get('minute');
}

export function windowOpen(window: CopyWindow, at: number): boolean {
  const now = localMinutes(window.timeZone, at);
  const from = minutesOf(window.from);
  const to = minutesOf(window.to);
  return from < to ? now >= from && now < to : now >= from || now < to;
}

// The first minute from `at` on whose local clock reads `clock`: a guess from the clock difference,
// then a walk over the minutes a daylight-saving change may have moved it by.
function nextLocal(timeZone: string, clock: string, at: number): number {
  const start = Math.floor(at / MINUTE_MS) * MINUTE_MS;
  const target = minutesOf(clock);
  const guess = start + ((target - localMinutes(timeZone, start) + DAY_MINUTES) % DAY_MINUTES) * MINUTE_MS;
  for (let step = -120; step <= 120; step++) {
    const t = guess + step * MINUTE_MS;
    if (t >= start && localMinutes(timeZone, t) === target) return t;
  }
  // The clock never reads that minute today (skipped by a daylight-saving jump): the guess is close enough.
  return Math.max(guess, start);
}

/** When the window next opens (now, if it is open). */
export function nextOpening(window: CopyWindow, at: number): number {
  return windowOpen(window, at) ? at : nextLocal(window.timeZone, window.from, at);
}

/** When an open window closes; undefined when it is closed now. */
export function closesAt(window: CopyWindow, at: number): number | undefined {
  return windowOpen(window, at) ? nextLocal(window.timeZone, window.to, at + MINUTE_MS) : undefined;
}

function clockText(at: number, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone, dateStyle: 'medium', timeStyle: 'short' }).format(at);
}

/** Why a step of the project may not run now, and until when; null when it may. */
export function holdFor(options: Pick<ProjectOptions, 'startAt' | 'copyWindow'>, stepId: string, now: number): Hold | null {
  const startAt = options.startAt ? Date.parse(options.startAt) : undefined;
  if (startAt !== undefined && startAt > now) {
    return { until: startAt, reason: 'start', message: `${SCHEDULE_WAIT_PREFIX}waits for the project's start time, ${clockText(startAt, options.copyWindow?.timeZone ?? 'UTC')} (${options.copyWindow?.timeZone ?? 'UTC'})` };
  }
  const window = options.copyWindow;
  if (window && isCopyStep(stepId) && !windowOpen(window, now)) {
    const until = nextOpening(window, now);
    return { until, reason: 'window', message: `${SCHEDULE_WAIT_PREFIX}waits for ${window.from} (${window.timeZone}): copy window ${window.from}–${window.to}` };
  }
  return null;
}

/** What the project page and the API show: "waits for 20:00", or null while the project may run. */
export function projectHold(options: Pick<ProjectOptions, 'startAt' | 'copyWindow'>, now: number): Hold | null {
  return holdFor(options, copyMail.id, now);
}

/**
 * The claim's gate: of the mailboxes just claimed, those whose project may not run their step now
 * are put back to wait until it may (lease released, state `waiting`, the reason on the row and,
 * once, in the timeline); the others are returned to be run. A pass the window closed on stopped
 * between two messages: that is not a failed attempt, so its error and attempt are cleared.
 */
export async function admitClaimed(db: Db, worker: string, claimed: number[], now = Date.now()): Promise<number[]> {
  if (claimed.length === 0) return claimed;
  type Row = { id: number; step: string; state: string; project_id: number; domain_id: number; attempts: number; error_code: string | null; manual_instructions: string | null; options: string };
  const rows: Row[] = await db('mailboxes').join('projects', 'projects.id', 'mailboxes.project_id').whereIn('mailboxes.id', claimed)
    .select('mailboxes.id', 'mailboxes.step', 'mailboxes.state', 'mailboxes.project_id', 'mailboxes.domain_id', 'mailboxes.attempts', 'mailboxes.error_code', 'mailboxes.manual_instructions', 'projects.options');
  const admitted = new Set(claimed);
  for (const row of rows) {
    const parsed = projectOptionsSchema.safeParse(JSON.parse(row.options));
    if (!parsed.success) continue;
    const hold = holdFor(parsed.data, row.step, now);
    if (!hold) continue;
    admitted.delete(row.id);
    const windowStop = row.error_code === 'COPY_WINDOW_CLOSED';
    await db('mailboxes').where({ id: row.id, locked_by: worker }).update({
      state: 'waiting', next_run_at: hold.until, manual_instructions: hold.message, locked_by: null, locked_until: null,
      ...(windowStop && { error_code: null, error_message: null, attempts: Math.max(0, row.attempts - 1) }),
    });
    if (row.manual_instructions !== hold.message) {
      await recordEvent(db, { projectId: row.project_id, mailboxId: row.id, domainId: row.domain_id, step: row.step, outcome: 'wait', message: hold.message, actor: 'worker' });
    }
  }
  return claimed.filter((id) => admitted.has(id));
}

/** After the schedule changed: mailboxes waiting on the old one look again at once. */
export async function wakeScheduleWaits(db: Db, projectId: number): Promise<number> {
  return db('mailboxes').where({ project_id: projectId, state: 'waiting' }).andWhere('manual_instructions', 'like', `${SCHEDULE_WAIT_PREFIX}%`).update({ next_run_at: 0 });
}
