// Modified occurrences of an Outlook series (MS-OXOCAL 2.2.1.44.2 ExceptionInfo, 2.2.1.44.3
// ExtendedException) as RECURRENCE-ID VEVENTs, on hand-built recurrence blobs: a moved occurrence
// with a new Unicode subject, one with a new location only, a deleted one; truncated and hostile
// exception lists. The real sample with moved occurrences (dist-list.pst) is in pst-timezone.test.ts
// and, through Radicale, in import-dav.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { appointmentEvent } from '../../server/files/pst-groupware.ts';
import { parseRecurrence } from '../../server/files/pst-recurrence.ts';
import { zoneFromDefinition } from '../../server/files/pst-timezone.ts';
import { splitICalendar } from '../../server/groupware/ical.ts';
import { exceptionsBlock, fakeAppointment, recurrenceBlob, tzDefinition, tzRule, type ExceptionSpec } from '../support/pst-blobs.ts';

const SUNDAY = 0;
const LAST = 5;
const BERLIN = tzDefinition('W. Europe Standard Time', [tzRule(2007, -60, -60, [10, SUNDAY, LAST, 3], [3, SUNDAY, LAST, 2])]);
const TZ = 'W. Europe Standard Time';

// Mondays 09:00–09:30 Berlin time from 4 March 2024, six times (08:00Z before the 31 March change).
// 11 March deleted; 18 March in Room 2 and until 10:00, not busy; 25 March moved to Tuesday 2 April
// 14:00–15:00 (after the change) with a new subject whose Unicode form has what Latin-1 cannot hold.
const ROOM_2: ExceptionSpec = { original: '2024-03-18T09:00:00', start: '2024-03-18T09:00:00', end: '2024-03-18T10:00:00', location: 'Room 2', busyStatus: 0 };
const MOVED: ExceptionSpec = { original: '2024-03-25T09:00:00', start: '2024-04-02T14:00:00', end: '2024-04-02T15:00:00', subject: 'Moved', wideSubject: 'Déplacé – Café ✓' };
const series = (exceptions: ExceptionSpec[], writerVersion?: number) => recurrenceBlob({
  freq: 0x200b, patternType: 1, period: 1, specific: [0b0000010], endType: 0x2022, count: 6,
  deleted: ['2024-03-11T00:00:00Z', '2024-03-18T00:00:00Z', '2024-03-25T00:00:00Z'], modified: ['2024-03-18T00:00:00Z', '2024-04-02T00:00:00Z'],
  start: '2024-03-04T00:00:00Z', end: 0x5ae980df, startOffset: 540, exceptions, ...(writerVersion !== undefined && { writerVersion }),
});
const FIRST = new Date('2024-03-04T08:00:00Z');
const iso = (dates: Date[]) => dates.map((d) => d.toISOString());
const appointment = (blob: Buffer, tz?: Buffer) => fakeAppointment(blob, FIRST, new Date('2024-03-04T08:30:00Z'), tz);

/**
 * Reads a calendar object resource as iCalendar (RFC 5545 3.1, 3.4, 3.6): CRLF lines, unfolded,
 * each NAME[;PARAM=VALUE…]:VALUE, components nested BEGIN/END. The VEVENTs' properties, by name.
 */
function vevents(text: string): Array<Map<string, string[]>> {
  assert.ok(text.endsWith('\r\n') && !/[^\r]\n/.test(text), 'CRLF line ends');
  const lines = text.replace(/\r\n[ \t]/g, '').split('\r\n').slice(0, -1);
  const stack: string[] = [];
  const events: Array<Map<string, string[]>> = [];
  for (const line of lines) {
    const m = /^([A-Za-z0-9-]+)((?:;[A-Za-z0-9-]+=(?:"[^"]*"|[^";:,]*)(?:,(?:"[^"]*"|[^";:,]*))*)*):(.*)$/.exec(line);
    assert.ok(m, `a content line: ${line}`);
    const [, name, params, value] = m;
    if (name === 'BEGIN') { stack.push(value!); if (value === 'VEVENT') events.push(new Map()); continue; }
    if (name === 'END') { assert.equal(stack.pop(), value, `END:${value} closes what it opened`); continue; }
    assert.ok(stack.length > 0, `${name} inside a component`);
    if (stack.at(-1) === 'VEVENT') {
      const props = events.at(-1)!;
      props.set(name!, [...(props.get(name!) ?? []), `${params};${value}`.replace(/^;/, '')]);
    }
  }
  assert.deepEqual(stack, [], 'every component closed');
  assert.equal(lines[0], 'BEGIN:VCALENDAR');
  return events;
}

test('a moved occurrence with a Unicode subject, one with a new location, one deleted: RECURRENCE-ID overrides in the zone, only the deleted day an EXDATE', () => {
  const zone = zoneFromDefinition(BERLIN)!;
  const rule = parseRecurrence(series([ROOM_2, MOVED]), FIRST, true, zone)!;
  assert.equal(rule.exceptionsError, undefined);
  assert.equal(rule.zone, zone);
  assert.equal(rule.rrule, 'FREQ=WEEKLY;BYDAY=MO;COUNT=6');
  assert.deepEqual(iso(rule.exdates), ['2024-03-11T09:00:00.000Z'], 'wall time: the 18th and 25th are modified, not deleted');
  assert.deepEqual(rule.overrides.map((o) => [o.recurrenceId.toISOString(), o.start.toISOString(), o.end.toISOString(), o.subject, o.location, o.busyStatus]), [
    ['2024-03-18T09:00:00.000Z', '2024-03-18T09:00:00.000Z', '2024-03-18T10:00:00.000Z', undefined, 'Room 2', 0],
    ['2024-03-25T09:00:00.000Z', '2024-04-02T14:00:00.000Z', '2024-04-02T15:00:00.000Z', 'Déplacé – Café ✓', undefined, undefined],
  ]);

  const text = appointmentEvent(appointment(series([ROOM_2, MOVED]), BERLIN)).data.toString('utf8');
  const events = vevents(text);
  assert.equal(events.length, 3, 'the master and two overrides');
  const [master, room, moved] = events as [Map<string, string[]>, Map<string, string[]>, Map<string, string[]>];
  assert.deepEqual(master.get('DTSTART'), [`TZID=${TZ};20240304T090000`]);
  assert.deepEqual(master.get('EXDATE'), [`TZID=${TZ};20240311T090000`]);
  assert.equal(master.get('RECURRENCE-ID'), undefined);
  assert.deepEqual(moved.get('RECURRENCE-ID'), [`TZID=${TZ};20240325T090000`], 'the original start, in the form of the master\'s DTSTART');
  assert.deepEqual(moved.get('DTSTART'), [`TZID=${TZ};20240402T140000`], 'its own start, in the same wall time after the DST change');
  assert.deepEqual(moved.get('DTEND'), [`TZID=${TZ};20240402T150000`]);
  assert.deepEqual(moved.get('SUMMARY'), ['Déplacé – Café ✓'], 'the ExtendedException\'s Unicode subject, not the 8-bit one');
  assert.deepEqual(moved.get('LOCATION'), ['Room 1'], 'inherited');
  assert.deepEqual(room.get('SUMMARY'), ['Weekly sync'], 'inherited');
  assert.deepEqual(room.get('LOCATION'), ['Room 2']);
  assert.deepEqual(room.get('TRANSP'), ['TRANSPARENT']);
  assert.deepEqual(room.get('DTEND'), [`TZID=${TZ};20240318T100000`]);
  assert.equal(moved.get('RRULE') ?? moved.get('EXDATE'), undefined, 'an override has no rule of its own');
  // Each RECURRENCE-ID is an occurrence the master's rule makes (weekly from DTSTART, six times).
  const occurrences = Array.from({ length: 6 }, (_, i) => `TZID=${TZ};${new Date(Date.UTC(2024, 2, 4 + 7 * i, 9)).toISOString().replace(/[-:]/g, '').slice(0, 15)}`);
  for (const e of [room, moved]) assert.ok(occurrences.includes(e.get('RECURRENCE-ID')![0]!), e.get('RECURRENCE-ID')![0]);
  // One UID, so one resource: what the .ics splitter (and a CalDAV server) groups by.
  const split = splitICalendar(text);
  assert.equal(split.length, 1);
  assert.equal(new Set(events.map((e) => e.get('UID')![0])).size, 1);
  assert.match(text, /^BEGIN:VTIMEZONE\r$/m);
  assert.ok(appointmentEvent(appointment(series([ROOM_2, MOVED]), BERLIN)).data.toString('utf8') === text, 'the same text every time');
});

test('without a zone the overrides follow the series\' UTC form: the first occurrence\'s offset, RECURRENCE-ID in UTC', () => {
  const rule = parseRecurrence(series([ROOM_2, MOVED]), FIRST, true)!;
  assert.equal(rule.zone, undefined);
  assert.deepEqual(iso(rule.exdates), ['2024-03-11T08:00:00.000Z']);
  assert.deepEqual(rule.overrides.map((o) => [o.recurrenceId.toISOString(), o.start.toISOString()]), [
    ['2024-03-18T08:00:00.000Z', '2024-03-18T08:00:00.000Z'],
    ['2024-03-25T08:00:00.000Z', '2024-04-02T13:00:00.000Z'],
  ]);
  const events = vevents(appointmentEvent(appointment(series([ROOM_2, MOVED]))).data.toString('utf8'));
  assert.equal(events.length, 3);
  assert.deepEqual(events[0]!.get('DTSTART'), ['20240304T080000Z']);
  assert.deepEqual(events[0]!.get('EXDATE'), ['20240311T080000Z']);
  assert.deepEqual(events[2]!.get('RECURRENCE-ID'), ['20240325T080000Z']);
  assert.deepEqual(events[2]!.get('DTSTART'), ['20240402T130000Z']);
  assert.deepEqual(events[2]!.get('SUMMARY'), ['Déplacé – Café ✓']);
});

test('an older writer (WriterVersion2 0x3008) has no ChangeHighlight; without an ExtendedException string the 8-bit one is used', () => {
  const rule = parseRecurrence(series([ROOM_2, MOVED], 0x3008), FIRST, true)!;
  assert.equal(rule.exceptionsError, undefined);
  assert.deepEqual(rule.overrides.map((o) => o.subject), [undefined, 'Déplacé – Café ✓']);
  const ansiOnly = parseRecurrence(series([ROOM_2, { ...MOVED, wideSubject: undefined, subject: 'Verschoben (Café)' }]), FIRST, true)!;
  assert.equal(ansiOnly.overrides[1]!.subject, 'Verschoben (Café)');
});

test('a truncated exception list, at every byte: the series and its EXDATEs are kept, no override, the reason given; never a throw', () => {
  const whole = series([ROOM_2, MOVED]);
  const listStart = whole.length - exceptionsBlock([ROOM_2, MOVED]).length;
  for (let cut = listStart; cut < whole.length; cut++) {
    const rule = parseRecurrence(whole.subarray(0, cut), FIRST, true)!;
    assert.ok(rule, `cut at ${cut}`);
    assert.equal(rule.rrule, 'FREQ=WEEKLY;BYDAY=MO;COUNT=6');
    assert.deepEqual(rule.overrides, [], `cut at ${cut}`);
    assert.match(rule.exceptionsError ?? '', /past the end|exception/, `cut at ${cut}`);
    // Without the list: the deleted days, less the one modified on its own day (which keeps the series' time).
    assert.deepEqual(iso(rule.exdates), ['2024-03-11T08:00:00.000Z', '2024-03-25T08:00:00.000Z'], `cut at ${cut}`);
  }
  const converted = appointmentEvent(appointment(whole.subarray(0, whole.length - 7), BERLIN));
  assert.match(converted.note ?? '', /modified occurrences could not be read \(.*ReservedBlockEE2.*\)/);
  const events = vevents(converted.data.toString('utf8'));
  assert.equal(events.length, 1);
  assert.deepEqual(events[0]!.get('EXDATE'), [`TZID=${TZ};20240311T090000`, `TZID=${TZ};20240325T090000`]);
  assert.deepEqual(events[0]!.get('RRULE'), ['FREQ=WEEKLY;BYDAY=MO;COUNT=6']);
});

test('hostile exception lists: lengths past the end, strings whose two lengths disagree, a count that is not the modified count, two overrides of one day, times that differ between the two arrays', () => {
  const whole = series([ROOM_2, MOVED]);
  const listStart = whole.length - exceptionsBlock([ROOM_2, MOVED]).length;
  const patched = (at: number, bytes: number[]) => { const b = Buffer.from(whole); Buffer.from(bytes).copy(b, at); return b; };
  const firstInfo = listStart + 2; // after ExceptionCount
  const roomLocation = firstInfo + 14; // ROOM_2 has no subject: its LocationLength comes first
  const cases: Array<[string, Buffer, RegExp]> = [
    ['ExceptionCount 65535', patched(listStart, [0xff, 0xff]), /past the end|exception/],
    ['LocationLength 65535, LocationLength2 65534', patched(roomLocation, [0xff, 0xff, 0xfe, 0xff]), /past the end/],
    ['LocationLength not LocationLength2 + 1', patched(roomLocation, [0x09, 0x00]), /lengths disagree/],
    ['OverrideFlags with every bit', patched(firstInfo + 12, [0xff, 0x01]), /./],
    ['three exceptions for two modified occurrences', series([ROOM_2, MOVED, { ...MOVED, original: '2024-04-01T09:00:00' }]), /3 exception\(s\) for 2 modified/],
    ['two overrides of one day', series([ROOM_2, { ...MOVED, original: '2024-03-18T09:00:00' }]), /one day/],
    // After ExceptionCount: ROOM_2's ExceptionInfo (times, flags, "Room 2", BusyStatus), MOVED's (times, flags, "Moved").
    ['ReservedBlock1Size 0xffffffff', (() => { const b = Buffer.from(whole); b.writeUInt32LE(0xffffffff, listStart + 2 + (14 + 4 + 6 + 4) + (14 + 4 + 5)); return b; })(), /ReservedBlock1/],
  ];
  for (const [what, blob, reason] of cases) {
    const rule = parseRecurrence(blob, FIRST, true);
    assert.ok(rule, what);
    assert.deepEqual(rule.overrides, [], what);
    assert.match(rule.exceptionsError ?? '', reason, what);
    assert.equal(rule.rrule, 'FREQ=WEEKLY;BYDAY=MO;COUNT=6', what);
    assert.equal(vevents(appointmentEvent(appointment(blob, BERLIN)).data.toString('utf8')).length, 1, what);
  }
  // The ExtendedException's times must be its ExceptionInfo's: the moved one's copy changed by a minute.
  const ee = whole.length - 4 /* ReservedBlock2Size */ - 4 /* EE2Size */ - (2 + MOVED.wideSubject!.length * 2) - 12;
  const shifted = Buffer.from(whole);
  shifted.writeUInt32LE(shifted.readUInt32LE(ee) + 1, ee);
  assert.match(parseRecurrence(shifted, FIRST, true)!.exceptionsError ?? '', /not its ExceptionInfo's/);
  // Random bytes over the list never throw, and an override is only ever written from a list read whole.
  let seed = 7;
  const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < 2000; i++) {
    const b = Buffer.from(whole);
    for (let k = 0; k < 3; k++) b[listStart + Math.floor(random() * (b.length - listStart))] = Math.floor(random() * 256);
    const rule = parseRecurrence(b, FIRST, true, zoneFromDefinition(BERLIN));
    assert.ok(rule);
    if (rule.exceptionsError) assert.deepEqual(rule.overrides, []);
  }
});

test('a deleted occurrence only (no ExceptionInfo for it) stays an EXDATE; a series without exceptions is written as before', () => {
  const plain = recurrenceBlob({ freq: 0x200b, patternType: 1, period: 1, specific: [0b0000010], endType: 0x2022, count: 6, deleted: ['2024-03-11T00:00:00Z'], start: '2024-03-04T00:00:00Z', end: 0x5ae980df, startOffset: 540 });
  const rule = parseRecurrence(plain, FIRST, true, zoneFromDefinition(BERLIN))!;
  assert.deepEqual([iso(rule.exdates), rule.overrides, rule.exceptionsError], [['2024-03-11T09:00:00.000Z'], [], undefined]);
  // A blob that ends at ExceptionCount 0 (no reserved block sizes) lacks nothing.
  const short = plain.subarray(0, plain.length - 8);
  assert.deepEqual(parseRecurrence(short, FIRST, true)!.exceptionsError, undefined);
  const converted = appointmentEvent(appointment(plain, BERLIN));
  assert.equal(converted.note, undefined);
  assert.equal(vevents(converted.data.toString('utf8')).length, 1);
});
