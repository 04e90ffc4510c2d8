// Outlook's recurrence blob (MS-OXOCAL 2.2.1.44: RecurrencePattern, and for appointments the
// AppointmentRecurrencePattern that follows it) as an iCalendar RRULE and EXDATEs. Read here
// rather than with pst-extractor's RecurrencePattern, which takes StartDate/EndDate from the end
// of the buffer: right for a task's pattern, wrong for an appointment's (its exceptions follow).
//
// Times in the blob are local to the appointment's zone (minutes since 1601-01-01). With the
// zone's rules (pst-timezone.ts) the rule stays in that wall time, as the event's DTSTART;TZID
// does, and follows DST. Without them, the offset of the first occurrence (its start is known in
// UTC) is applied to every date and the rule is written in UTC: an hour off after a DST change.

import { fromWall, toWall, type Zone } from './pst-timezone.ts';

const FREQ: Record<number, string> = { 0x200a: 'DAILY', 0x200b: 'WEEKLY', 0x200c: 'MONTHLY', 0x200d: 'YEARLY' };
const DAYS = ['SU', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA'];
const END_AFTER_DATE = 0x2021;
const END_AFTER_COUNT = 0x2022;
const PATTERN_DAY = 0, PATTERN_WEEK = 1, PATTERN_MONTH = 2, PATTERN_MONTH_NTH = 3, PATTERN_MONTH_END = 4;
const MS_1601_TO_1970 = 11_644_473_600_000;
const NO_END = 0x5ae980df; // 31 Dec 4500, Outlook's "never"

/** Minutes since 1601 (local wall time) as a Date whose UTC fields are that wall time. */
const wall = (minutes: number) => new Date(minutes * 60_000 - MS_1601_TO_1970);

export interface Recurrence {
  rrule: string;
  /** Deleted occurrences: in UTC, or with `zone` its wall time (Dates whose UTC fields are that wall time). */
  exdates: Date[];
  /** The zone the rule and the EXDATEs are in, where the one given agrees with the blob; otherwise UTC. */
  zone?: Zone;
}

function utcStampOf(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

const minutesOfDay = (wallTime: Date) => wallTime.getUTCHours() * 60 + wallTime.getUTCMinutes();

function weekdays(mask: number, shift: number): string {
  const out: string[] = [];
  for (let i = 0; i < 7; i++) if (mask & (1 << i)) out.push(DAYS[(i + shift + 7) % 7]!);
  return out.join(',');
}

/**
 * Parses the blob; `firstStartUtc` is the first occurrence's start (PidLidAppointmentStartWhole,
 * or the task's start), `zone` the appointment's time zone where it has one. Returns undefined
 * for a blob it does not understand (the item is then imported without its recurrence, and says so).
 */
export function parseRecurrence(blob: Buffer, firstStartUtc: Date | null, appointment: boolean, zone?: Zone): Recurrence | undefined {
  try {
    const freq = FREQ[blob.readUInt16LE(4)];
    const patternType = blob.readUInt16LE(6);
    const period = blob.readUInt32LE(14);
    if (!freq) return undefined;
    let at = 22;
    let mask = 0, day = 0, nth = 0;
    if (patternType === PATTERN_WEEK) { mask = blob.readUInt32LE(at); at += 4; }
    else if (patternType === PATTERN_MONTH || patternType === PATTERN_MONTH_END || patternType === 0xa || patternType === 0xc) { day = blob.readUInt32LE(at); at += 4; }
    else if (patternType === PATTERN_MONTH_NTH || patternType === 0xb) { mask = blob.readUInt32LE(at); nth = blob.readUInt32LE(at + 4); at += 8; }
    else if (patternType !== PATTERN_DAY) return undefined;
    const endType = blob.readUInt32LE(at);
    const count = blob.readUInt32LE(at + 4);
    at += 12; // EndType, OccurrenceCount, FirstDOW
    const deletedCount = blob.readUInt32LE(at);
    if (deletedCount > 100_000) return undefined;
    const deleted: number[] = [];
    for (let i = 0; i < deletedCount; i++) deleted.push(blob.readUInt32LE(at + 4 + i * 4));
    at += 4 + deletedCount * 4;
    const modifiedCount = blob.readUInt32LE(at);
    if (modifiedCount > 100_000) return undefined;
    const modified = new Set<number>();
    for (let i = 0; i < modifiedCount; i++) modified.add(blob.readUInt32LE(at + 4 + i * 4));
    at += 4 + modifiedCount * 4;
    const startDate = blob.readUInt32LE(at);
    const endDate = blob.readUInt32LE(at + 4);
    at += 8;
    // The AppointmentRecurrencePattern part: ReaderVersion2, WriterVersion2, StartTimeOffset.
    const startOffset = appointment && blob.length >= at + 12 ? blob.readUInt32LE(at + 8) : 0;
    // Local wall time of the first occurrence vs its UTC instant: the zone's offset then.
    const localFirst = wall(startDate + startOffset);
    const offsetMs = firstStartUtc ? firstStartUtc.getTime() - localFirst.getTime() : 0;
    // A zone in which the first start is not at the blob's time of day is not the one the series
    // was made in: following it would move every occurrence.
    const zoned = zone && firstStartUtc && minutesOfDay(toWall(zone, firstStartUtc)) === startOffset ? zone : undefined;
    const toUtc = zoned ? (minutes: number) => fromWall(zoned, wall(minutes + startOffset)) : (minutes: number) => new Date(wall(minutes + startOffset).getTime() + offsetMs);
    // A weekday in local time can be another day in UTC (an 8 pm start west of Greenwich).
    const shift = firstStartUtc && !zoned ? Math.round((Date.UTC(firstStartUtc.getUTCFullYear(), firstStartUtc.getUTCMonth(), firstStartUtc.getUTCDate()) - Date.UTC(localFirst.getUTCFullYear(), localFirst.getUTCMonth(), localFirst.getUTCDate())) / 86_400_000) : 0;

    const parts: string[] = [];
    if (freq === 'DAILY' && patternType === PATTERN_WEEK) {
      parts.push('FREQ=WEEKLY', `BYDAY=${weekdays(mask, shift)}`); // "every weekday"
    } else if (freq === 'DAILY') {
      parts.push('FREQ=DAILY');
      if (period > 1440) parts.push(`INTERVAL=${Math.round(period / 1440)}`);
    } else if (freq === 'WEEKLY') {
      parts.push('FREQ=WEEKLY');
      if (period > 1) parts.push(`INTERVAL=${period}`);
      parts.push(`BYDAY=${weekdays(mask, shift)}`);
    } else {
      const yearly = freq === 'YEARLY';
      parts.push(`FREQ=${freq}`);
      const interval = yearly ? Math.round(period / 12) : period;
      if (interval > 1) parts.push(`INTERVAL=${interval}`);
      if (yearly) parts.push(`BYMONTH=${localFirst.getUTCMonth() + 1}`);
      if (patternType === PATTERN_MONTH_END || (day === 31 && patternType === PATTERN_MONTH)) parts.push('BYMONTHDAY=-1');
      else if (patternType === PATTERN_MONTH_NTH || patternType === 0xb) parts.push(`BYDAY=${weekdays(mask, 0)}`, `BYSETPOS=${nth === 5 ? -1 : nth}`);
      else if (day) parts.push(`BYMONTHDAY=${day}`);
    }
    if (endType === END_AFTER_COUNT && count > 0) parts.push(`COUNT=${count}`);
    else if (endType === END_AFTER_DATE && endDate && endDate !== NO_END) parts.push(`UNTIL=${utcStampOf(toUtc(endDate))}`);
    // A modified occurrence is listed as deleted too; its replacement lives in an attachment this
    // reader does not turn into a RECURRENCE-ID override, so only truly deleted ones become EXDATEs.
    const exdates = deleted.filter((d) => !modified.has(d)).map(zoned ? (d: number) => wall(d + startOffset) : toUtc);
    return { rrule: parts.join(';'), exdates, ...(zoned && { zone: zoned }) };
  } catch {
    return undefined;
  }
}
