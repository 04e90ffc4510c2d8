// An Outlook appointment's own time zone as the VTIMEZONE its iCalendar times name with TZID, and
// the wall time ↔ UTC conversions those times need. A recurring event written in UTC drifts an
// hour at every DST change; written in the zone's wall time it stays where the user put it.
//
// Outlook stores the zone twice over: TZDEFINITION (MS-OXOCAL 2.2.1.41: a key name and rules by
// year, as PidLidAppointmentTimeZoneDefinitionRecur/StartDisplay) and the older TZSTRUCT
// (2.2.1.39: one rule, no name, as PidLidTimeZoneStruct). Both hold Windows' rule form: a bias in
// minutes west of UTC, and SYSTEMTIMEs for "the nth weekday of a month at a local time".
import { escapeText, foldLine } from './ical-text.ts';

/** "The nth (5: last) weekday of a month", at minutes past local midnight. */
export interface Transition { month: number; weekday: number; nth: number; minutes: number }

export interface ZoneRule {
  /** The first year it applies to; the first rule also covers every year before. */
  from: number;
  /** Minutes east of UTC, as iCalendar counts them (Windows' bias has the other sign). */
  standardOffset: number;
  daylightOffset: number;
  /** Absent for a zone without daylight time. */
  dst?: { toDaylight: Transition; toStandard: Transition };
}

export interface Zone { id: string; rules: ZoneRule[] }

const TZRULE_SIZE = 66;
const DAYS = ['SU', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA'];

/**
 * A SYSTEMTIME as a yearly transition. Month 0 means "no transition"; a year other than 0 is a
 * date that happens once, which Outlook does not write for a zone's rules: such a zone is refused
 * rather than turned into a yearly rule it is not.
 */
function transition(b: Buffer, at: number): Transition | null | undefined {
  const [year, month, weekday, nth, hour, minute] = [0, 2, 4, 6, 8, 10].map((o) => b.readUInt16LE(at + o)) as [number, number, number, number, number, number];
  if (month === 0) return null;
  if (year !== 0 || month > 12 || weekday > 6 || nth < 1 || nth > 5 || hour > 23 || minute > 59) return undefined;
  return { month, weekday, nth, minutes: hour * 60 + minute };
}

/** bias, standard bias, daylight bias, then the two SYSTEMTIMEs at `stdAt` and `dstAt`. */
function rule(b: Buffer, at: number, stdAt: number, dstAt: number, from: number): ZoneRule | undefined {
  const bias = b.readInt32LE(at);
  const standardOffset = -(bias + b.readInt32LE(at + 4));
  const daylightOffset = -(bias + b.readInt32LE(at + 8));
  if (Math.abs(standardOffset) > 18 * 60 || Math.abs(daylightOffset) > 18 * 60) return undefined;
  const toStandard = transition(b, stdAt);
  const toDaylight = transition(b, dstAt);
  if (toStandard === undefined || toDaylight === undefined) return undefined;
  if (!toStandard || !toDaylight || standardOffset === daylightOffset) return { from, standardOffset, daylightOffset: standardOffset };
  return { from, standardOffset, daylightOffset, dst: { toDaylight, toStandard } };
}

/** PidLidAppointmentTimeZoneDefinition*: undefined for a blob it cannot read. */
export function zoneFromDefinition(b: Buffer): Zone | undefined {
  try {
    if (b.readUInt8(0) !== 0x02) return undefined;
    const headerEnd = 4 + b.readUInt16LE(2);
    const keyChars = b.readUInt16LE(6);
    const id = b.toString('utf16le', 8, 8 + keyChars * 2);
    const count = b.readUInt16LE(8 + keyChars * 2);
    if (count === 0 || headerEnd + count * TZRULE_SIZE > b.length) return undefined;
    const rules: ZoneRule[] = [];
    for (let i = 0; i < count; i++) {
      // TZRULE: versions, reserved, flags, year, 14 unused bytes, then the TZSTRUCT-like fields.
      const at = headerEnd + i * TZRULE_SIZE;
      const r = rule(b, at + 22, at + 34, at + 50, b.readUInt16LE(at + 6));
      if (!r) return undefined;
      rules.push(r);
    }
    rules.sort((x, y) => x.from - y.from);
    return { id, rules };
  } catch {
    return undefined;
  }
}

/** PidLidTimeZoneStruct, named by PidLidTimeZoneDescription: undefined for a blob it cannot read. */
export function zoneFromStruct(b: Buffer, description: string | undefined): Zone | undefined {
  if (b.length < 48) return undefined;
  const r = rule(b, 0, 14, 32, 0);
  return r && { id: description?.trim() || `UTC${offsetText(r.standardOffset)}`, rules: [r] };
}

function ruleFor(zone: Zone, year: number): ZoneRule {
  let found = zone.rules[0]!;
  for (const r of zone.rules) if (r.from <= year) found = r;
  return found;
}

/** The transition's wall time in `year`, as a Date whose UTC fields are that wall time. */
function onset(t: Transition, year: number): Date {
  const firstWeekday = new Date(Date.UTC(year, t.month - 1, 1)).getUTCDay();
  const daysInMonth = new Date(Date.UTC(year, t.month, 0)).getUTCDate();
  let day = 1 + ((t.weekday - firstWeekday + 7) % 7) + (t.nth - 1) * 7;
  while (day > daysInMonth) day -= 7; // "5th" is the last
  return new Date(Date.UTC(year, t.month - 1, day) + t.minutes * 60_000);
}

/** The zone's offset from UTC at an instant, in minutes east. */
export function offsetAt(zone: Zone, utc: Date): number {
  const year = utc.getUTCFullYear();
  const r = ruleFor(zone, year);
  if (!r.dst) return r.standardOffset;
  // Each change is given in the wall time in force before it.
  const toDaylight = onset(r.dst.toDaylight, year).getTime() - r.standardOffset * 60_000;
  const toStandard = onset(r.dst.toStandard, year).getTime() - r.daylightOffset * 60_000;
  const t = utc.getTime();
  const daylight = toDaylight < toStandard ? t >= toDaylight && t < toStandard : t >= toDaylight || t < toStandard; // south of the equator DST spans the new year
  return daylight ? r.daylightOffset : r.standardOffset;
}

/** An instant as the zone's wall time (a Date whose UTC fields are that wall time). */
export function toWall(zone: Zone, utc: Date): Date {
  return new Date(utc.getTime() + offsetAt(zone, utc) * 60_000);
}

/**
 * A wall time as an instant, read as RFC 5545 3.3.5 reads it: a time met twice in autumn is the
 * first, a time skipped in spring takes the offset from before the gap.
 */
export function fromWall(zone: Zone, wall: Date): Date {
  const r = ruleFor(zone, wall.getUTCFullYear());
  for (const offset of [r.daylightOffset, r.standardOffset]) {
    const utc = new Date(wall.getTime() - offset * 60_000);
    if (offsetAt(zone, utc) === offset) return utc;
  }
  return new Date(wall.getTime() - r.standardOffset * 60_000);
}

function offsetText(minutes: number): string {
  const abs = Math.abs(minutes);
  return `${minutes < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}${String(abs % 60).padStart(2, '0')}`;
}

/** 20240331T020000: a wall time with no zone of its own. */
export function wallStamp(wall: Date): string {
  return wall.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, '');
}

/** The TZID parameter: quoted where the name holds what a parameter value cannot (Windows' descriptions have colons). */
export function tzidParam(zone: Zone): string {
  const name = zone.id.replace(/["\u0000-\u001f]/g, '');
  return /[;:,]/.test(name) ? `TZID="${name}"` : `TZID=${name}`;
}

function byDay(t: Transition): string {
  return `${t.nth === 5 ? -1 : t.nth}${DAYS[t.weekday]}`;
}

/** One STANDARD or DAYLIGHT part of a rule, from the rule's first year to the next rule's. */
function observance(kind: 'STANDARD' | 'DAYLIGHT', t: Transition, from: number, to: number, fromYear: number, untilYear: number | undefined): string[] {
  const first = onset(t, fromYear);
  const lines = [`BEGIN:${kind}`, `DTSTART:${wallStamp(first)}`];
  let rrule = `FREQ=YEARLY;BYMONTH=${t.month};BYDAY=${byDay(t)}`;
  if (untilYear !== undefined) rrule += `;UNTIL=${wallStamp(new Date(onset(t, untilYear).getTime() - from * 60_000))}Z`;
  lines.push(`RRULE:${rrule}`, `TZOFFSETFROM:${offsetText(from)}`, `TZOFFSETTO:${offsetText(to)}`, `END:${kind}`);
  return lines;
}

/** Where the calendar has no older rule, Outlook's own convention: the first rule holds since 1601. */
const EARLIEST_YEAR = 1601;

/** The VTIMEZONE component, CRLF-terminated lines. */
export function vtimezone(zone: Zone): string {
  const lines = ['BEGIN:VTIMEZONE', `TZID:${escapeText(zone.id.replace(/[\u0000-\u001f]/g, ''))}`];
  zone.rules.forEach((r, i) => {
    const fromYear = i === 0 ? EARLIEST_YEAR : r.from;
    const next = zone.rules[i + 1];
    const untilYear = next ? next.from - 1 : undefined;
    if (untilYear !== undefined && untilYear < fromYear) return; // superseded in its own year
    if (!r.dst) {
      const before = i === 0 ? r.standardOffset : offsetAt(zone, new Date(Date.UTC(fromYear, 0, 1) - r.standardOffset * 60_000 - 1));
      lines.push('BEGIN:STANDARD', `DTSTART:${fromYear}0101T000000`, `TZOFFSETFROM:${offsetText(before)}`, `TZOFFSETTO:${offsetText(r.standardOffset)}`, 'END:STANDARD');
      return;
    }
    lines.push(...observance('STANDARD', r.dst.toStandard, r.daylightOffset, r.standardOffset, fromYear, untilYear));
    lines.push(...observance('DAYLIGHT', r.dst.toDaylight, r.standardOffset, r.daylightOffset, fromYear, untilYear));
  });
  lines.push('END:VTIMEZONE');
  return lines.map(foldLine).join('');
}
