// Outlook contacts, appointments and tasks as the vCards, VEVENTs and VTODOs CardDAV and CalDAV
// store. What a PST holds is MAPI properties, not text: each item is written out, always the same
// way for the same item (no "now" in it), so a re-run finds its earlier copy unchanged.
import { createHash } from 'node:crypto';
import type { PSTMessage, PSTTask } from 'pst-extractor';
import type { PSTAppointment } from 'pst-extractor/dist/PSTAppointment.class.js';
import type { PSTContact } from 'pst-extractor/dist/PSTContact.class.js';
import { ContentLines, dateOnly, escapeText, utcStamp } from './ical-text.ts';
import { parseOneOff } from './pst-entryid.ts';
import { namedBinaries, namedBinary, namedString, PSETID_ADDRESS, PSETID_APPOINTMENT } from './pst-properties.ts';
import { parseRecurrence } from './pst-recurrence.ts';
import { tzidParam, toWall, vtimezone, wallStamp, zoneFromDefinition, zoneFromStruct, type Zone } from './pst-timezone.ts';

export type DavKind = 'addressbook' | 'calendar' | 'tasks';

export interface Converted { kind: DavKind; data: Buffer; label: string; note?: string }

const PRODID = '-//cutover//file import//EN';

/** A UID for an item that has none of its own: the same for the same item of the same PST. */
function stableUid(message: PSTMessage): string {
  const basis = `${message.descriptorNodeId.toString()}|${message.creationTime?.toISOString() ?? ''}|${message.subject}`;
  return `pst-${createHash('sha256').update(basis).digest('hex').slice(0, 32)}@cutover`;
}

/** When the item last changed, as DTSTAMP/REV: taken from the item, never from the clock. */
function stamp(message: PSTMessage): Date {
  const modified = (message as unknown as { getDateItem?(id: number): Date | null }).getDateItem?.(0x3008);
  return modified ?? message.creationTime ?? new Date(0);
}

function adr(street: string, city: string, region: string, code: string, country: string, box = ''): string | undefined {
  const parts = [box, '', street, city, region, code, country].map((p) => escapeText((p ?? '').trim()));
  return parts.some(Boolean) ? parts.join(';') : undefined;
}

function usableEmail(value: string): string | undefined {
  const trimmed = value?.trim();
  return trimmed && trimmed.includes('@') && !/[\r\n]/.test(trimmed) ? trimmed : undefined;
}

export function contactCard(c: PSTContact): Converted {
  const lines = new ContentLines();
  const fn = c.displayName || [c.givenName, c.middleName, c.surname].filter(Boolean).join(' ') || c.companyName || c.email1EmailAddress || 'Unnamed';
  lines.raw('VERSION', '3.0').raw('PRODID', PRODID).raw('UID', stableUid(c))
    .text('FN', fn)
    .raw('N', [c.surname, c.givenName, c.middleName, c.displayNamePrefix, c.generation].map((p) => escapeText(p ?? '')).join(';'))
    .text('NICKNAME', c.nickname)
    .raw('ORG', c.companyName || c.departmentName ? [c.companyName, c.departmentName].map((p) => escapeText(p ?? '')).join(';') : undefined)
    .text('TITLE', c.title)
    .text('ROLE', c.profession);
  for (const email of [c.email1EmailAddress, c.email2EmailAddress, c.email3EmailAddress]) lines.raw('EMAIL;TYPE=INTERNET', usableEmail(email));
  const phones: Array<[string, string]> = [
    ['WORK,VOICE', c.businessTelephoneNumber], ['WORK,VOICE', c.business2TelephoneNumber], ['HOME,VOICE', c.homeTelephoneNumber], ['HOME,VOICE', c.home2TelephoneNumber],
    ['CELL', c.mobileTelephoneNumber], ['PREF', c.primaryTelephoneNumber], ['WORK,FAX', c.businessFaxNumber], ['HOME,FAX', c.homeFaxNumber],
    ['PAGER', c.pagerTelephoneNumber], ['CAR', c.carTelephoneNumber], ['VOICE', c.otherTelephoneNumber], ['WORK', c.companyMainPhoneNumber],
  ];
  for (const [type, number] of phones) if (number?.trim()) lines.raw(`TEL;TYPE=${type}`, escapeText(number.trim()));
  lines.raw('ADR;TYPE=WORK', adr(c.workAddressStreet, c.workAddressCity, c.workAddressState, c.workAddressPostalCode, c.workAddressCountry, c.workAddressPostOfficeBox))
    .raw('ADR;TYPE=HOME', adr(c.homeAddressStreet, c.homeAddressCity, c.homeAddressStateOrProvince, c.homeAddressPostalCode, c.homeAddressCountry, c.homeAddressPostOfficeBox))
    .raw('ADR', adr(c.otherAddressStreet, c.otherAddressCity, c.otherAddressStateOrProvince, c.otherAddressPostalCode, c.otherAddressCountry, c.otherAddressPostOfficeBox))
    .text('URL', c.businessHomePage || c.personalHomePage)
    .raw('BDAY', c.birthday ? c.birthday.toISOString().slice(0, 10) : undefined)
    .raw('X-ANNIVERSARY', c.anniversary ? c.anniversary.toISOString().slice(0, 10) : undefined)
    .text('X-ASSISTANT', c.assistant)
    .text('X-MANAGER', c.managerName)
    .text('X-SPOUSE', c.spouseName)
    .text('NOTE', c.body)
    .raw('REV', utcStamp(stamp(c)));
  return { kind: 'addressbook', data: Buffer.from(`BEGIN:VCARD\r\n${lines}END:VCARD\r\n`, 'utf8'), label: fn };
}

const LID_DL_MEMBERS = 0x8055;
const LID_DL_ONE_OFF_MEMBERS = 0x8054;

/**
 * An Outlook distribution list as a contact group, in the vCard 3.0 form CardDAV servers and
 * clients share (Apple's X-ADDRESSBOOKSERVER-KIND/MEMBER; KIND and MEMBER are vCard 4.0 only).
 * Members are taken from their one-off entry IDs: PidLidDistributionListMembers points at contacts
 * by entry ID, and PidLidDistributionListOneOffMembers holds each one's name and address.
 */
export function distListCard(d: PSTMessage): Converted {
  const fn = d.subject || d.displayName || 'Unnamed list';
  const entries = namedBinaries(d, LID_DL_ONE_OFF_MEMBERS, PSETID_ADDRESS) ?? namedBinaries(d, LID_DL_MEMBERS, PSETID_ADDRESS) ?? [];
  const lines = new ContentLines();
  lines.raw('VERSION', '3.0').raw('PRODID', PRODID).raw('UID', stableUid(d)).text('FN', fn).raw('N', `${escapeText(fn)};;;;`).raw('X-ADDRESSBOOKSERVER-KIND', 'group');
  const seen = new Set<string>();
  const left: string[] = [];
  for (const entry of entries) {
    const member = parseOneOff(entry);
    const email = member && /^SMTP$/i.test(member.addressType) ? usableEmail(member.address) : undefined;
    if (!email) {
      left.push(member ? `${member.name || member.address} (${member.addressType} address)` : 'an entry that is not a one-off address');
      continue;
    }
    if (seen.has(email.toLowerCase())) continue;
    seen.add(email.toLowerCase());
    lines.raw('X-ADDRESSBOOKSERVER-MEMBER', `mailto:${email}`);
  }
  lines.text('NOTE', d.body).raw('REV', utcStamp(stamp(d)));
  const note = left.length ? `${left.length} member(s) without an e-mail address left out: ${left.join(', ')}` : undefined;
  return { kind: 'addressbook', data: Buffer.from(`BEGIN:VCARD\r\n${lines}END:VCARD\r\n`, 'utf8'), label: fn, ...(note && { note }) };
}

const calendar = (body: string) => Buffer.from(`BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:${PRODID}\r\n${body}END:VCALENDAR\r\n`, 'utf8');

function recipients(message: PSTMessage, lines: ContentLines): void {
  let n = 0;
  try { n = Math.min(message.numberOfRecipients, 1000); } catch { return; }
  for (let i = 0; i < n; i++) {
    const r = message.getRecipient(i);
    const email = r && usableEmail(r.smtpAddress || r.emailAddress);
    if (!email) continue;
    const cn = r.displayName && !/["\r\n]/.test(r.displayName) ? `;CN="${r.displayName}"` : '';
    lines.raw(`ATTENDEE${cn};ROLE=${r.recipientType === 2 ? 'OPT-PARTICIPANT' : 'REQ-PARTICIPANT'}`, `mailto:${email}`);
  }
}

const LID_TIME_ZONE_STRUCT = 0x8233;
const LID_TIME_ZONE_DESCRIPTION = 0x8234;
const LID_TZ_DEFINITION_START_DISPLAY = 0x825e;
const LID_TZ_DEFINITION_RECUR = 0x8260;

/**
 * The zone a recurring appointment's series is kept in: the definition Outlook keeps for the
 * recurrence (MS-OXOCAL 2.2.1.43), else the start's (2.2.1.41), else the older one-rule TZSTRUCT.
 */
function appointmentZone(a: PSTAppointment): Zone | undefined {
  for (const lid of [LID_TZ_DEFINITION_RECUR, LID_TZ_DEFINITION_START_DISPLAY]) {
    const blob = namedBinary(a, lid, PSETID_APPOINTMENT);
    const zone = blob && zoneFromDefinition(blob);
    if (zone) return zone;
  }
  const struct = namedBinary(a, LID_TIME_ZONE_STRUCT, PSETID_APPOINTMENT);
  return struct && zoneFromStruct(struct, namedString(a, LID_TIME_ZONE_DESCRIPTION, PSETID_APPOINTMENT));
}

/** A DTSTART/DTEND/EXDATE line: a day, a wall time of the zone, or UTC. */
function timeLine(lines: ContentLines, name: string, instant: Date, allDay: boolean, zone: Zone | undefined): void {
  if (allDay) lines.raw(`${name};VALUE=DATE`, dateOnly(instant));
  else if (zone) lines.raw(`${name};${tzidParam(zone)}`, wallStamp(toWall(zone, instant)));
  else lines.raw(name, utcStamp(instant));
}

/** A RECURRENCE-ID/EXDATE line: in the form the master's DTSTART is written (day, zone's wall time, or UTC). */
function occurrenceLine(lines: ContentLines, name: string, at: Date, allDay: boolean, zone: Zone | undefined): void {
  if (allDay) lines.raw(`${name};VALUE=DATE`, dateOnly(at));
  else lines.raw(zone ? `${name};${tzidParam(zone)}` : name, zone ? wallStamp(at) : utcStamp(at));
}

/** What an occurrence may change of the master's: the rest of each VEVENT is the master's. */
interface Instance { subject: string; location: string; busyStatus: number; reminderSet: boolean; reminderDelta: number }

/** DESCRIPTION onwards: the same in the master and in each of its overrides, but for what the override changes. */
function eventText(a: PSTAppointment, lines: ContentLines, it: Instance): void {
  lines.text('SUMMARY', it.subject).text('LOCATION', it.location).text('DESCRIPTION', a.body);
}

function eventParties(a: PSTAppointment, lines: ContentLines, it: Instance): void {
  const organizer = usableEmail(a.senderEmailAddress);
  if (organizer && a.numberOfRecipients > 0) lines.raw('ORGANIZER', `mailto:${organizer}`);
  recipients(a, lines);
  lines.raw('TRANSP', it.busyStatus === 0 ? 'TRANSPARENT' : 'OPAQUE');
  if (a.sensitivity === 2 || a.sensitivity === 3) lines.raw('CLASS', 'PRIVATE');
  if (it.reminderSet && it.reminderDelta >= 0 && it.reminderDelta < 100_000) {
    lines.raw('BEGIN', 'VALARM').raw('ACTION', 'DISPLAY').text('DESCRIPTION', it.subject || 'Reminder').raw('TRIGGER', `-PT${it.reminderDelta}M`).raw('END', 'VALARM');
  }
}

export function appointmentEvent(a: PSTAppointment): Converted {
  const lines = new ContentLines();
  const notes: string[] = [];
  const start = a.startTime;
  const end = a.endTime;
  const allDay = a.subType;
  const blob = a.isRecurring ? a.recurrenceStructure : null;
  // Only a series needs its zone: a single event's UTC times are the same instants.
  const zone = blob && !allDay ? appointmentZone(a) : undefined;
  const rule = blob ? parseRecurrence(blob, start, true, zone) : undefined;
  if (zone && rule && !rule.zone) notes.push(`its time zone (${zone.id}) does not agree with its recurrence: written in UTC, later occurrences may be an hour off after a DST change`);
  const master: Instance = { subject: a.subject, location: a.location, busyStatus: a.busyStatus, reminderSet: a.reminderSet, reminderDelta: a.reminderDelta };
  const uid = stableUid(a);
  const dtstamp = utcStamp(stamp(a));
  lines.raw('UID', uid).raw('DTSTAMP', dtstamp);
  if (start) timeLine(lines, 'DTSTART', start, allDay, rule?.zone);
  if (end && start && end > start) timeLine(lines, 'DTEND', end, allDay, rule?.zone);
  eventText(a, lines, master);
  if (rule) {
    lines.raw('RRULE', rule.rrule);
    // With a zone the EXDATEs are already its wall times; the UTC ones are instants.
    for (const ex of rule.exdates) occurrenceLine(lines, 'EXDATE', ex, allDay, rule.zone);
    if (rule.exceptionsError) notes.push(`its modified occurrences could not be read (${rule.exceptionsError}): the series is imported with its deleted occurrences, each modified one as the series has it or not at all`);
  } else if (a.isRecurring) notes.push(`its recurrence ("${a.recurrencePattern}") could not be read: imported as its first occurrence only`);
  eventParties(a, lines, master);
  // Each modified occurrence: a VEVENT of the same UID in the same resource (RFC 4791 4.1), its
  // times in the master's form, what it does not change taken from the master.
  let overrides = '';
  if (start && rule) {
    for (const o of rule.overrides) {
      const it: Instance = { subject: o.subject ?? master.subject, location: o.location ?? master.location, busyStatus: o.busyStatus ?? master.busyStatus, reminderSet: o.reminderSet ?? master.reminderSet, reminderDelta: o.reminderDelta ?? master.reminderDelta };
      const ov = new ContentLines();
      ov.raw('UID', uid).raw('DTSTAMP', dtstamp);
      occurrenceLine(ov, 'RECURRENCE-ID', o.recurrenceId, allDay, rule.zone);
      occurrenceLine(ov, 'DTSTART', o.start, allDay, rule.zone);
      if (o.end > o.start) occurrenceLine(ov, 'DTEND', o.end, allDay, rule.zone);
      eventText(a, ov, it);
      eventParties(a, ov, it);
      overrides += `BEGIN:VEVENT\r\n${ov}END:VEVENT\r\n`;
    }
  }
  const vtz = rule?.zone ? vtimezone(rule.zone) : '';
  const note = notes.join('; ');
  return { kind: 'calendar', data: calendar(`${vtz}BEGIN:VEVENT\r\n${lines}END:VEVENT\r\n${overrides}`), label: a.subject || '(no title)', ...(note && { note }) };
}

const TASK_STATUS: Record<number, string> = { 0: 'NEEDS-ACTION', 1: 'IN-PROCESS', 2: 'COMPLETED', 3: 'NEEDS-ACTION', 4: 'CANCELLED' };

export function taskTodo(t: PSTTask): Converted {
  const lines = new ContentLines();
  lines.raw('UID', stableUid(t)).raw('DTSTAMP', utcStamp(stamp(t)))
    .text('SUMMARY', t.subject).text('DESCRIPTION', t.body);
  const start = t.taskStartDate;
  const due = t.taskDueDate;
  // Outlook keeps task dates as midnight of a day: they are days, not instants.
  if (start) lines.raw('DTSTART;VALUE=DATE', dateOnly(start));
  if (due && (!start || due >= start)) lines.raw('DUE;VALUE=DATE', dateOnly(due));
  lines.raw('STATUS', TASK_STATUS[t.taskStatus] ?? 'NEEDS-ACTION');
  if (t.percentComplete > 0) lines.raw('PERCENT-COMPLETE', String(Math.round(Math.min(1, t.percentComplete) * 100)));
  if (t.taskDateCompleted) lines.raw('COMPLETED', utcStamp(t.taskDateCompleted));
  if (t.importance === 2) lines.raw('PRIORITY', '1');
  else if (t.importance === 0) lines.raw('PRIORITY', '9');
  let note: string | undefined;
  if (t.isTaskRecurring) {
    const blob = taskRecurrenceBlob(t);
    const rule = blob ? parseRecurrence(blob, start, false) : undefined;
    if (rule && start) lines.raw('RRULE', rule.rrule);
    else note = 'its recurrence could not be read: imported as one task';
  }
  return { kind: 'tasks', data: calendar(`BEGIN:VTODO\r\n${lines}END:VTODO\r\n`), label: t.subject || '(no title)', ...(note && { note }) };
}

/** PidLidTaskRecurrence, which pst-extractor reads only into its own (task-shaped) pattern object. */
function taskRecurrenceBlob(t: PSTTask): Buffer | undefined {
  const pattern = t.taskRecurrencePattern as unknown as { buffer?: Buffer } | null;
  return pattern?.buffer;
}
