// Changing a project's daily-use options while it runs: start time, copy window, bandwidth cap,
// retention, letters. The whole option document is validated again before it is saved, the
// mailboxes waiting on the old schedule look again at once, and the change is audited.
import type { AppContext } from '../context.ts';
import { recordAudit } from '../db/repos/audit.ts';
import { projectById, projectOptionsSchema, type ProjectOptions } from '../db/repos/projects.ts';
import { CutoverError } from '../errors.ts';
import { closesAt, projectHold, wakeScheduleWaits } from '../workflow/window.ts';

export const SCHEDULE_KEYS = ['startAt', 'copyWindow', 'maxBytesPerSecond', 'retentionDays', 'timeZone', 'letters', 'letterLanguages'] as const;
export type SchedulePatch = Partial<{ [K in (typeof SCHEDULE_KEYS)[number]]: ProjectOptions[K] | null }>;

export async function updateSchedule(app: AppContext, projectId: number, patch: SchedulePatch, actor: string): Promise<{ options: ProjectOptions; woken: number }> {
  const project = await projectById(app.db, projectId);
  const current = JSON.parse(project.options) as Record<string, unknown>;
  const next: Record<string, unknown> = { ...current };
  for (const key of SCHEDULE_KEYS) {
    if (!(key in patch)) continue;
    if (patch[key] === null || patch[key] === undefined) delete next[key];
    else next[key] = patch[key];
  }
  const parsed = projectOptionsSchema.safeParse(next);
  if (!parsed.success) throw new CutoverError('INPUT_INVALID', { detail: parsed.error.issues.map((i) => `${i.path.join('.') || 'options'}: ${i.message}`).join('; ') });
  await app.db('projects').where({ id: project.id }).update({ options: JSON.stringify(next) });
  const woken = await wakeScheduleWaits(app.db, project.id);
  const changed = SCHEDULE_KEYS.filter((k) => k in patch).map((k) => `${k}=${JSON.stringify(next[k] ?? null)}`).join(', ');
  await recordAudit(app.db, { actor, action: 'project.schedule', target: project.name, detail: changed });
  return { options: parsed.data, woken };
}

/** The cap per source host: a column of the source platform, shared by every project reading from it (null: none). */
export async function setHostCap(app: AppContext, platformId: number, bytesPerSecond: number | null, actor: string): Promise<void> {
  if (bytesPerSecond !== null && (!Number.isInteger(bytesPerSecond) || bytesPerSecond < 1024 || bytesPerSecond > 1_250_000_000)) {
    throw new CutoverError('INPUT_INVALID', { detail: 'maxBytesPerSecond: 1024 to 1250000000, or null' });
  }
  const platform = await app.db('platforms').where({ id: platformId }).first('name');
  if (!platform) throw new CutoverError('PLATFORM_UNKNOWN', { name: `#${platformId}` });
  await app.db('platforms').where({ id: platformId }).update({ max_bytes_per_second: bytesPerSecond });
  await recordAudit(app.db, { actor, action: 'platform.bandwidth', target: platform.name, detail: `max bytes per second per host: ${bytesPerSecond ?? 'none'}` });
}

export interface ScheduleView {
  startAt: string | null; timeZone: string;
  copyWindow: ProjectOptions['copyWindow'] | null; maxBytesPerSecond: number | null; retentionDays: number;
  /** Why the project's mailboxes wait now, and until when; null while they may run. */
  hold: { reason: 'start' | 'window'; until: string; message: string } | null;
  /** When the open copy window closes. */
  windowClosesAt: string | null;
}

export function scheduleView(options: ProjectOptions, now = Date.now()): ScheduleView {
  const hold = projectHold(options, now);
  const closes = options.copyWindow ? closesAt(options.copyWindow, now) : undefined;
  return {
    startAt: options.startAt ?? null, timeZone: options.timeZone, copyWindow: options.copyWindow ?? null,
    maxBytesPerSecond: options.maxBytesPerSecond ?? null, retentionDays: options.retentionDays,
    hold: hold && { reason: hold.reason, until: new Date(hold.until).toISOString(), message: hold.message.replace(/^schedule: /, '') },
    windowClosesAt: closes === undefined ? null : new Date(closes).toISOString(),
  };
}

/** A wall-clock time typed in a zone ("2026-12-06T20:00" in Europe/Paris) as an ISO time with its offset. */
export function zonedToIso(local: string, timeZone: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})$/.exec(local.trim());
  if (!m) return null;
  const asUtc = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]));
  if (Number.isNaN(asUtc)) return null;
  // The zone's offset at that instant, found by formatting; twice, for times near a daylight-saving change.
  let guess = asUtc;
  for (let i = 0; i < 2; i++) guess = asUtc - offsetMs(timeZone, guess);
  return new Date(guess).toISOString();
}

function offsetMs(timeZone: string, at: number): number {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }).formatToParts(at);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second')) - Math.floor(at / 1000) * 1000;
}

/** The other way, for the form: an ISO time as the wall clock of a zone ("2026-12-06T20:00"). */
export function isoToZoned(iso: string, timeZone: string): string {
  const at = Date.parse(iso);
  return new Date(at + offsetMs(timeZone, at)).toISOString().slice(0, 16);
}
