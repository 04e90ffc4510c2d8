// An appointment's Outlook time zone as a VTIMEZONE and as offsets, checked against the IANA
// database Node carries (Intl), and a recurring event of a real PST read back through the
// VTIMEZONE text it was written with, the way a calendar client reads it.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { openPst } from '../../server/files/pst.ts';
import { parseRecurrence } from '../../server/files/pst-recurrence.ts';
import { fromWall, offsetAt, tzidParam, vtimezone, zoneFromDefinition, zoneFromStruct, type Zone } from '../../server/files/pst-timezone.ts';
import { minutes, recurrenceBlob, tzDefinition, tzRule, tzStruct, type Change } from '../support/pst-blobs.ts';
import { observances, utcFromText } from '../support/vtimezone.ts';

const SUNDAY = 0;
const LAST = 5;

/** The IANA zone's offset at an instant, in minutes east of UTC. */
function ianaOffset(timeZone: string): (utc: Date) => number {
  const format = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric' });
  return (utc) => {
    const f = Object.fromEntries(format.formatToParts(utc).map((p) => [p.type, Number(p.value)]));
    return (Date.UTC(f.year!, f.month! - 1, f.day!, f.hour!, f.minute!) - utc.getTime()) / 60_000;
  };
}

/** Every half hour from the start of `fromYear` to the end of `toYear`, our offset against IANA's. */
function assertSameOffsets(zone: Zone, timeZone: string, fromYear: number, toYear: number): void {
  const iana = ianaOffset(timeZone);
  for (let t = Date.UTC(fromYear, 0, 1); t < Date.UTC(toYear + 1, 0, 1); t += 30 * 60_000) {
    const at = new Date(t);
    assert.equal(offsetAt(zone, at), iana(at), `${zone.id} at ${at.toISOString()}`);
  }
}

const W_EUROPE: [Change, Change] = [[10, SUNDAY, LAST, 3], [3, SUNDAY, LAST, 2]];
const US_EASTERN: [Change, Change] = [[11, SUNDAY, 1, 2], [3, SUNDAY, 2, 2]];

test('W. Europe from a TZDEFINITION: +0100/+0200 on the last Sundays of March and October, as Europe/Berlin', () => {
  const zone = zoneFromDefinition(tzDefinition('W. Europe Standard Time', [tzRule(2007, -60, -60, ...W_EUROPE)]))!;
  assert.equal(zone.id, 'W. Europe Standard Time');
  const parts = observances(vtimezone(zone));
  assert.deepEqual(parts.map((p) => [p.KIND, p.DTSTART, p.RRULE, p.TZOFFSETFROM, p.TZOFFSETTO]), [
    ['STANDARD', '16011028T030000', 'FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU', '+0200', '+0100'],
    ['DAYLIGHT', '16010325T020000', 'FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU', '+0100', '+0200'],
  ]);
  assertSameOffsets(zone, 'Europe/Berlin', 2023, 2025);
});

test('US Eastern from a TZSTRUCT named by its description: -0500/-0400, a quoted TZID, wall times in the gap and the overlap', () => {
  const zone = zoneFromStruct(tzStruct(300, -60, ...US_EASTERN), '(UTC-05:00) Eastern Time (US & Canada)')!;
  assert.equal(tzidParam(zone), 'TZID="(UTC-05:00) Eastern Time (US & Canada)"', 'a colon in a parameter value needs quotes');
  const text = vtimezone(zone);
  assert.match(text, /^TZID:\(UTC-05:00\) Eastern Time \(US & Canada\)\r$/m);
  assert.deepEqual(observances(text).map((p) => [p.KIND, p.RRULE, p.TZOFFSETFROM, p.TZOFFSETTO]), [
    ['STANDARD', 'FREQ=YEARLY;BYMONTH=11;BYDAY=1SU', '-0400', '-0500'],
    ['DAYLIGHT', 'FREQ=YEARLY;BYMONTH=3;BYDAY=2SU', '-0500', '-0400'],
  ]);
  assertSameOffsets(zone, 'America/New_York', 2024, 2024);
  // 2024-03-10 02:30 does not exist: read with the offset before the gap. 2024-11-03 01:30 happens twice: the first.
  assert.equal(fromWall(zone, new Date('2024-03-10T02:30:00Z')).toISOString(), '2024-03-10T07:30:00.000Z');
  assert.equal(fromWall(zone, new Date('2024-11-03T01:30:00Z')).toISOString(), '2024-11-03T05:30:00.000Z');
  assert.equal(fromWall(zone, new Date('2024-07-01T09:00:00Z')).toISOString(), '2024-07-01T13:00:00.000Z');
});

test('rules by year (US Pacific before and after 2007) end where the next begins; south of the equator DST spans the new year; no DST is one STANDARD', () => {
  const pacific = zoneFromDefinition(tzDefinition('Pacific Standard Time', [
    tzRule(2007, 480, -60, [11, SUNDAY, 1, 2], [3, SUNDAY, 2, 2]),
    tzRule(2006, 480, -60, [10, SUNDAY, LAST, 2], [4, SUNDAY, 1, 2]),
  ]))!;
  assert.deepEqual(observances(vtimezone(pacific)).map((p) => [p.KIND, p.DTSTART, p.RRULE]), [
    ['STANDARD', '16011028T020000', 'FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU;UNTIL=20061029T090000Z'],
    ['DAYLIGHT', '16010401T020000', 'FREQ=YEARLY;BYMONTH=4;BYDAY=1SU;UNTIL=20060402T100000Z'],
    ['STANDARD', '20071104T020000', 'FREQ=YEARLY;BYMONTH=11;BYDAY=1SU'],
    ['DAYLIGHT', '20070311T020000', 'FREQ=YEARLY;BYMONTH=3;BYDAY=2SU'],
  ]);
  assertSameOffsets(pacific, 'America/Los_Angeles', 2005, 2008);
  const sydney = zoneFromStruct(tzStruct(-600, -60, [4, SUNDAY, 1, 3], [10, SUNDAY, 1, 2]), 'AUS Eastern Standard Time')!;
  assertSameOffsets(sydney, 'Australia/Sydney', 2024, 2024);
  const tashkent = zoneFromStruct(tzStruct(-300, 0, undefined, undefined), undefined)!;
  assert.equal(tashkent.id, 'UTC+0500');
  assert.deepEqual(observances(vtimezone(tashkent)).map((p) => [p.KIND, p.DTSTART, p.RRULE, p.TZOFFSETFROM, p.TZOFFSETTO]), [['STANDARD', '16010101T000000', undefined, '+0500', '+0500']]);
});

test('a TZ blob that is not one gives no zone', () => {
  assert.equal(zoneFromDefinition(Buffer.from([2, 1, 0x30, 0])), undefined, 'truncated');
  assert.equal(zoneFromDefinition(tzDefinition('X', [])), undefined, 'no rules');
  assert.equal(zoneFromDefinition(tzDefinition('X', [tzRule(2007, 0, -60, [13, SUNDAY, 1, 2], [3, SUNDAY, 2, 2])])), undefined, 'month 13');
  assert.equal(zoneFromStruct(Buffer.alloc(20), 'short'), undefined);
});

test('a weekly rule across the spring change, in the zone: EXDATEs in wall time, UNTIL in UTC, weekdays local; a zone that disagrees with the blob is not used', () => {
  const eastern = zoneFromStruct(tzStruct(300, -60, ...US_EASTERN), 'Eastern')!;
  // Fridays 20:00 New York from 2024-03-01 (01:00Z on Saturday), one deleted after the change, until 2024-03-29.
  const b = recurrenceBlob({ freq: 0x200b, patternType: 1, period: 1, specific: [0b0100000], endType: 0x2021, count: 0, deleted: ['2024-03-15T00:00:00Z'], start: '2024-03-01T00:00:00Z', end: minutes('2024-03-29T00:00:00Z'), startOffset: 1200 });
  const rule = parseRecurrence(b, new Date('2024-03-02T01:00:00Z'), true, eastern)!;
  assert.equal(rule.zone, eastern);
  assert.equal(rule.rrule, 'FREQ=WEEKLY;BYDAY=FR;UNTIL=20240330T000000Z', 'the last one is at 20:00 EDT = 00:00Z');
  assert.deepEqual(rule.exdates.map((d) => d.toISOString()), ['2024-03-15T20:00:00.000Z'], 'wall time 20:00, not shifted by the change');
  const pacific = zoneFromStruct(tzStruct(480, -60, ...US_EASTERN), 'Pacific')!;
  const utc = parseRecurrence(b, new Date('2024-03-02T01:00:00Z'), true, pacific)!;
  assert.equal(utc.zone, undefined, 'in Pacific time the first start is 17:00, not the blob\'s 20:00');
  assert.equal(utc.rrule, 'FREQ=WEEKLY;BYDAY=SA;UNTIL=20240330T010000Z');
});

test('dist-list.pst: the weekly appointment is written in Pacific wall time with its VTIMEZONE, its two moved occurrences as overrides; after the November change it is still at 08:00 there', async () => {
  const source = openPst(path.join(import.meta.dirname, 'pst', 'dist-list.pst'));
  const events: string[] = [];
  for await (const item of source.items()) if (item.kind === 'dav' && item.collection === 'calendar') events.push(item.data.toString('utf8'));
  await source.close();
  assert.equal(events.length, 1);
  const ics = events[0]!;
  assert.match(ics, /^BEGIN:VTIMEZONE\r\nTZID:Pacific Standard Time\r$/m, 'from PidLidAppointmentTimeZoneDefinitionRecur');
  assert.match(ics, /^DTSTART;TZID=Pacific Standard Time:20160802T080000\r$/m);
  assert.match(ics, /^DTEND;TZID=Pacific Standard Time:20160802T083000\r$/m);
  assert.match(ics, /^RRULE:FREQ=WEEKLY;BYDAY=TU\r$/m);
  assert.match(ics, /^EXDATE;TZID=Pacific Standard Time:20160809T080000\r$/m);
  // Its blob also holds two moved occurrences (ExceptionInfo, body changed: ARO_EXCEPTIONAL_BODY):
  // 23 August to 09:00–09:30 and 30 August to 10:00–10:30, overrides in the same wall time.
  assert.equal([...ics.matchAll(/^EXDATE/gm)].length, 1, 'the moved ones are not deleted');
  const overrides = [...ics.matchAll(/^RECURRENCE-ID;TZID=Pacific Standard Time:(\d{8}T\d{6})\r\nDTSTART;TZID=Pacific Standard Time:(\d{8}T\d{6})\r\nDTEND;TZID=Pacific Standard Time:(\d{8}T\d{6})\r$/gm)].map((m) => m.slice(1));
  assert.deepEqual(overrides, [['20160823T080000', '20160823T090000', '20160823T093000'], ['20160830T080000', '20160830T100000', '20160830T103000']]);
  assert.equal([...ics.matchAll(/^BEGIN:VEVENT\r$/gm)].length, 3);
  assert.equal(new Set([...ics.matchAll(/^UID:(.*)\r$/gm)].map((m) => m[1])).size, 1);
  // The first start is readpst's 20160802T150000Z; a weekly series keeps its wall time, so the
  // Tuesday after the change (6 Nov 2016) is 08:00 too, now 16:00Z, as America/Los_Angeles has it.
  const pacific = ianaOffset('America/Los_Angeles');
  for (const [wall, utc] of [['2016-08-02T08:00:00', '2016-08-02T15:00:00.000Z'], ['2016-11-01T08:00:00', '2016-11-01T15:00:00.000Z'], ['2016-11-08T08:00:00', '2016-11-08T16:00:00.000Z'], ['2017-03-14T08:00:00', '2017-03-14T15:00:00.000Z']] as const) {
    const instant = utcFromText(ics, wall);
    assert.equal(instant.toISOString(), utc, wall);
    assert.equal(pacific(instant), (Date.parse(`${wall}Z`) - instant.getTime()) / 60_000, `${wall} is the Los Angeles wall time of ${utc}`);
  }
});
