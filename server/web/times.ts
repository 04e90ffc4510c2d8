// Times as an admin reads them: relative when recent ("il y a 3 min", "3 min ago"), the date
// and time otherwise, always with the absolute time (language, server time zone) on hover and
// the ISO value in `datetime`. Durations as durations ("1 h 5 min"), never as pairs of stamps.
import Handlebars from 'handlebars';
import type { Language } from './i18n.ts';

const esc = Handlebars.Utils.escapeExpression;
const RELATIVE_UNTIL_MS = 7 * 24 * 3600_000;
const STEPS: Array<[Intl.RelativeTimeFormatUnit, number]> = [['second', 1000], ['minute', 60_000], ['hour', 3600_000], ['day', 86_400_000]];

// Building an Intl formatter costs far more than using one: a page of 100 rows would build hundreds.
const formatters = new Map<string, Intl.RelativeTimeFormat | Intl.DateTimeFormat>();
function cached<T extends Intl.RelativeTimeFormat | Intl.DateTimeFormat>(key: string, make: () => T): T {
  if (!formatters.has(key)) formatters.set(key, make());
  return formatters.get(key) as T;
}

export function relativeTime(lang: Language, at: Date, now = Date.now(), style: Intl.RelativeTimeFormatStyle = 'short'): string {
  const diff = at.getTime() - now;
  const format = cached(`r|${lang}|${style}`, () => new Intl.RelativeTimeFormat(lang, { numeric: 'auto', style }));
  const abs = Math.abs(diff);
  const [unit, size] = [...STEPS].reverse().find(([, ms]) => abs >= ms) ?? STEPS[0]!;
  return format.format(Math.round(diff / size), unit);
}

export function absoluteTime(lang: Language, at: Date, timeZone?: string): string {
  return cached(`a|${lang}|${timeZone ?? ''}`, () => new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'medium', ...(timeZone && { timeZone }) })).format(at);
}

/** `<time>` for an ISO string or epoch ms; what is not a time comes back as plain escaped text. */
export function timeHtml(lang: Language, value: unknown, now = Date.now(), timeZone?: string): string {
  if (value === null || value === undefined || value === '') return '';
  const at = new Date(typeof value === 'number' ? value : String(value));
  if (Number.isNaN(at.getTime())) return esc(String(value));
  const absolute = absoluteTime(lang, at, timeZone);
  const shown = Math.abs(at.getTime() - now) < RELATIVE_UNTIL_MS ? relativeTime(lang, at, now) : absolute;
  return `<time datetime="${esc(at.toISOString())}" title="${esc(absolute)}">${esc(shown)}</time>`;
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

/** A stored time as the pages keep it (an ISO string with its zone, or a Date). */
export function isStoredTime(value: unknown): value is string | Date {
  return value instanceof Date ? !Number.isNaN(value.getTime()) : typeof value === 'string' && ISO_TIME.test(value);
}

const ON: Record<Language, string> = { en: 'on', fr: 'le' };

/**
 * A time that sits inside a translated sentence ("checked {at}"): the sentence has no preposition,
 * the time brings its own, so both forms read right: "checked 3 min ago" / "vérifié il y a 3 min",
 * "checked on 6 Dec 2026, 07:40:38" / "vérifié le 6 déc. 2026, 07:40:38". As <time>, absolute on hover.
 */
export function timeInSentenceHtml(lang: Language, value: string | Date, now = Date.now(), timeZone?: string): string {
  const at = new Date(value);
  const absolute = absoluteTime(lang, at, timeZone);
  // Words in full inside a sentence: "3 min." would end it early ("checked 3 min.. ago").
  const shown = Math.abs(at.getTime() - now) < RELATIVE_UNTIL_MS ? relativeTime(lang, at, now, 'long') : `${ON[lang]} ${absolute}`;
  return `<time datetime="${esc(at.toISOString())}" title="${esc(absolute)}">${esc(shown)}</time>`;
}

/** Translated text whose time parameters become <time> elements; everything else escaped. */
export function sentenceWithTimes(lang: Language, template: (params: Record<string, string | number>) => string, params: Record<string, unknown>, timeZone?: string, now = Date.now()): string {
  const marks = new Map<string, string>();
  const plain: Record<string, string | number> = {};
  for (const [name, value] of Object.entries(params)) {
    if (isStoredTime(value)) {
      const mark = `\u0000${marks.size}\u0000`;
      marks.set(mark, timeInSentenceHtml(lang, value, now, timeZone));
      plain[name] = mark;
    } else plain[name] = value as string | number;
  }
  let html = esc(template(plain));
  for (const [mark, time] of marks) html = html.replace(esc(mark), time);
  return html;
}

export function durationText(lang: Language, ms: number): string {
  const units: Array<[Intl.NumberFormatOptions['unit'], number]> = [['day', 86_400_000], ['hour', 3600_000], ['minute', 60_000], ['second', 1000]];
  if (!Number.isFinite(ms) || ms < 1000) return new Intl.NumberFormat(lang, { style: 'unit', unit: 'second', unitDisplay: 'short' }).format(Math.max(0, Math.round(ms / 100) / 10));
  const parts: string[] = [];
  let rest = ms;
  for (const [unit, size] of units) {
    const n = Math.floor(rest / size);
    if (n > 0 && parts.length < 2) parts.push(new Intl.NumberFormat(lang, { style: 'unit', unit, unitDisplay: 'short' }).format(n));
    if (n > 0) rest -= n * size;
  }
  return parts.join(' ');
}
