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

/**
 * A modified occurrence (MS-OXOCAL 2.2.1.44.2 ExceptionInfo, with 2.2.1.44.3 ExtendedException's
 * Unicode subject and location): its times in the form of the EXDATEs (UTC, or the zone's wall time).
 */
export interface Override {
  /** The occurrence it replaces: the series' start on the original day, as the rule generates it. */
  recurrenceId: Date;
  start: Date;
  end: Date;
  /** Undefined: the master's. */
  subject?: string;
  location?: string;
  busyStatus?: number;
  reminderSet?: boolean;
  reminderDelta?: number;
}

export interface Recurrence {
  rrule: string;
  /** Deleted occurrences: in UTC, or with `zone` its wall time (Dates whose UTC fields are that wall time). */
  exdates: Date[];
  /** The zone the rule and the EXDATEs are in, where the one given agrees with the blob; otherwise UTC. */
  zone?: Zone;
  /** Modified occurrences, each written as a RECURRENCE-ID VEVENT (none where the list could not be read). */
  overrides: Override[];
  /** Why the exception list could not be read: the modified occurrences are then left as the series has them. */
  exceptionsError?: string;
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

// OverrideFlags (2.2.1.44.2): which optional fields an ExceptionInfo holds, in this order.
const ARO_SUBJECT = 0x0001, ARO_MEETINGTYPE = 0x0002, ARO_REMINDERDELTA = 0x0004, ARO_REMINDER = 0x0008, ARO_LOCATION = 0x0010;
const ARO_BUSYSTATUS = 0x0020, ARO_ATTACHMENT = 0x0040, ARO_SUBTYPE = 0x0080, ARO_APPTCOLOR = 0x0100;
/** WriterVersion2 from which each ExtendedException starts with a ChangeHighlight. */
const WRITER_CHANGE_HIGHLIGHT = 0x3009;

/** A hostile-input cursor: every read is checked against the buffer, with the field it was for. */
class Cursor {
  constructor(private readonly b: Buffer, public at: number) {}
  private need(n: number, what: string): void {
    if (n < 0 || this.at + n > this.b.length) throw new Error(`${what} runs past the end of the blob (${n} bytes at ${this.at} of ${this.b.length})`);
  }
  u16(what: string): number { this.need(2, what); const v = this.b.readUInt16LE(this.at); this.at += 2; return v; }
  u32(what: string): number { this.need(4, what); const v = this.b.readUInt32LE(this.at); this.at += 4; return v; }
  bytes(n: number, what: string): Buffer { this.need(n, what); const v = this.b.subarray(this.at, this.at + n); this.at += n; return v; }
  skip(n: number, what: string): void { this.need(n, what); this.at += n; }
  atEnd(): boolean { return this.at >= this.b.length; }
}

interface RawException { start: number; end: number; original: number; flags: number; subject?: string; location?: string; busyStatus?: number; reminderSet?: boolean; reminderDelta?: number }

/**
 * ExceptionInfo's 8-bit strings: a length that counts itself plus the characters, then the
 * characters, in a code page the blob does not name (read as Latin-1; ExtendedException's
 * Unicode copy replaces it where there is one).
 */
function ansiString(c: Cursor, what: string): string {
  const withLength = c.u16(`${what} length`);
  const chars = c.u16(`${what} length 2`);
  if (withLength !== chars + 1) throw new Error(`${what} lengths disagree (${withLength}, ${chars})`);
  return c.bytes(chars, what).toString('latin1');
}

function wideString(c: Cursor, what: string): string {
  const chars = c.u16(`${what} length`);
  return c.bytes(chars * 2, what).toString('utf16le');
}

/**
 * The AppointmentRecurrencePattern's ExceptionCount, ExceptionInfo array, ReservedBlock1 and
 * ExtendedException array, from `c` at ExceptionCount. Throws with the reason on anything that
 * does not fit the buffer or disagrees with itself.
 */
function readExceptions(c: Cursor, writerVersion: number): RawException[] {
  const count = c.u16('ExceptionCount');
  if (count === 0 && c.atEnd()) return []; // nothing modified: the reserved blocks' sizes are all that is missing
  const list: RawException[] = [];
  for (let i = 0; i < count; i++) {
    const what = `exception ${i + 1} of ${count}`;
    const e: RawException = { start: c.u32(`${what} StartDateTime`), end: c.u32(`${what} EndDateTime`), original: c.u32(`${what} OriginalStartDate`), flags: c.u16(`${what} OverrideFlags`) };
    if (e.flags & ARO_SUBJECT) e.subject = ansiString(c, `${what} Subject`);
    if (e.flags & ARO_MEETINGTYPE) c.u32(`${what} MeetingType`);
    if (e.flags & ARO_REMINDERDELTA) e.reminderDelta = c.u32(`${what} ReminderDelta`) | 0;
    if (e.flags & ARO_REMINDER) e.reminderSet = c.u32(`${what} ReminderSet`) !== 0;
    if (e.flags & ARO_LOCATION) e.location = ansiString(c, `${what} Location`);
    if (e.flags & ARO_BUSYSTATUS) e.busyStatus = c.u32(`${what} BusyStatus`);
    if (e.flags & ARO_ATTACHMENT) c.u32(`${what} Attachment`);
    if (e.flags & ARO_SUBTYPE) c.u32(`${what} SubType`);
    if (e.flags & ARO_APPTCOLOR) c.u32(`${what} AppointmentColor`);
    list.push(e);
  }
  c.skip(c.u32('ReservedBlock1Size'), 'ReservedBlock1');
  for (const [i, e] of list.entries()) {
    const what = `extended exception ${i + 1} of ${count}`;
    if (writerVersion >= WRITER_CHANGE_HIGHLIGHT) c.skip(c.u32(`${what} ChangeHighlightSize`), `${what} ChangeHighlight`);
    c.skip(c.u32(`${what} ReservedBlockEE1Size`), `${what} ReservedBlockEE1`);
    if (!(e.flags & (ARO_SUBJECT | ARO_LOCATION))) continue;
    const times = [c.u32(`${what} StartDateTime`), c.u32(`${what} EndDateTime`), c.u32(`${what} OriginalStartDate`)];
    if (times[0] !== e.start || times[1] !== e.end || times[2] !== e.original) throw new Error(`${what}: its times are not its ExceptionInfo's`);
    if (e.flags & ARO_SUBJECT) e.subject = wideString(c, `${what} WideCharSubject`);
    if (e.flags & ARO_LOCATION) e.location = wideString(c, `${what} WideCharLocation`);
    c.skip(c.u32(`${what} ReservedBlockEE2Size`), `${what} ReservedBlockEE2`);
  }
  c.skip(c.u32('ReservedBlock2Size'), 'ReservedBlock2');
  return list;
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
    // The exceptions, after ReaderVersion2, WriterVersion2, StartTimeOffset, EndTimeOffset: an
    // appointment's blob may end before them only where nothing was modified.
    let raw: RawException[] | undefined;
    let exceptionsError: string | undefined;
    if (appointment && (blob.length > at + 16 || modifiedCount > 0)) {
      try {
        raw = readExceptions(new Cursor(blob, at + 16), blob.readUInt32LE(at + 4));
        if (raw.length !== modifiedCount) throw new Error(`${raw.length} exception(s) for ${modifiedCount} modified occurrence(s)`);
        const originals = new Set<number>();
        for (const e of raw) {
          const day = e.original - (e.original % 1440);
          if (originals.has(day)) throw new Error(`two exceptions replace the occurrence of one day`);
          originals.add(day);
        }
      } catch (err) {
        raw = undefined;
        exceptionsError = (err as Error).message;
      }
    }
    // A modified occurrence is listed as deleted too, on its original day. With the exceptions read
    // it is overridden, not deleted; without them the reader can only tell a modification that
    // stayed on its day (ModifiedInstanceDates holds the new day), which keeps the series' time.
    const overridden = raw ? new Set(raw.map((e) => e.original - (e.original % 1440))) : modified;
    const asExdate = zoned ? (d: number) => wall(d + startOffset) : toUtc;
    const exdates = deleted.filter((d) => !overridden.has(d)).map(asExdate);
    // Times in an exception are the appointment's local wall time, like the blob's others.
    const localTime = zoned ? wall : (minutes: number) => new Date(wall(minutes).getTime() + offsetMs);
    const overrides: Override[] = (raw ?? []).map((e) => ({
      // The instance the rule generates on the original day (OriginalStartDate's day at the series' time).
      recurrenceId: asExdate(e.original - (e.original % 1440)),
      start: localTime(e.start),
      end: localTime(e.end),
      ...(e.subject !== undefined && { subject: e.subject }),
      ...(e.location !== undefined && { location: e.location }),
      ...(e.busyStatus !== undefined && { busyStatus: e.busyStatus }),
      ...(e.reminderSet !== undefined && { reminderSet: e.reminderSet }),
      ...(e.reminderDelta !== undefined && { reminderDelta: e.reminderDelta }),
    }));
    return { rrule: parts.join(';'), exdates, ...(zoned && { zone: zoned }), overrides, ...(exceptionsError && { exceptionsError }) };
  } catch {
    return undefined;
  }
}
