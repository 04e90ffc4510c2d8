import { z } from 'zod';

export const MAX_RETENTION_DAYS = 3650;

/** An IANA zone the runtime knows ("Europe/Paris", "UTC"); anything else is refused at input. */
export function isTimeZone(value: string): boolean {
  if (value.length > 64 || !/^[A-Za-z_+\-/0-9]+$/.test(value)) return false;
  try { new Intl.DateTimeFormat('en', { timeZone: value }); return true; } catch { return false; }
}

const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time HH:MM (00:00 to 23:59)');

/** A daily window: from `from` to `to` in `timeZone`; `to` before `from` crosses midnight (20:00–07:00). */
export const copyWindowSchema = z.object({
  from: clock,
  to: clock,
  timeZone: z.string().refine(isTimeZone, 'an IANA time zone such as Europe/Paris').default('UTC'),
}).refine((w) => w.from !== w.to, 'the window must not start and end at the same minute');

export const letterLanguagesSchema = z.array(z.enum(['en', 'fr'])).min(1).max(2).refine((l) => new Set(l).size === l.length, 'each language once');
