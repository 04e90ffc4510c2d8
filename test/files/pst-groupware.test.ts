// The PST → vCard/VEVENT/VTODO conversion's logic, on plain objects and built recurrence blobs
// (no sample PST holds a task or a monthly rule), and dist-list.pst's distribution list; the
// real-file path through a DAV server is test/files/import-dav.test.ts.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { openPst } from '../../server/files/pst.ts';
import { parseOneOff } from '../../server/files/pst-entryid.ts';
import { taskTodo } from '../../server/files/pst-groupware.ts';
import { parseRecurrence } from '../../server/files/pst-recurrence.ts';
import { foldLine } from '../../server/files/ical-text.ts';
import { minutes, recurrenceBlob as blob } from '../support/pst-blobs.ts';

test('weekly rule with a count, a deleted occurrence as EXDATE, a modified one kept; local time turned into UTC', () => {
  // Mondays and Wednesdays at 09:00 local, local = UTC+2 (first start 07:00Z), 10 occurrences.
  const b = blob({ freq: 0x200b, patternType: 1, period: 1, specific: [0b0001010], endType: 0x2022, count: 10, deleted: ['2024-03-06T00:00:00Z', '2024-03-11T00:00:00Z'], modified: ['2024-03-11T00:00:00Z'], start: '2024-03-04T00:00:00Z', end: 0x5ae980df, startOffset: 540 });
  const rule = parseRecurrence(b, new Date('2024-03-04T07:00:00Z'), true)!;
  assert.equal(rule.rrule, 'FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10');
  assert.deepEqual(rule.exdates.map((d) => d.toISOString()), ['2024-03-06T07:00:00.000Z']);
});

test('an evening start west of Greenwich moves the weekdays to the next UTC day', () => {
  // Fridays 20:00 local at UTC-5 = Saturdays 01:00Z.
  const b = blob({ freq: 0x200b, patternType: 1, period: 2, specific: [0b0100000], endType: 0x2023, count: 0, start: '2024-03-01T00:00:00Z', end: 0x5ae980df, startOffset: 1200 });
  assert.equal(parseRecurrence(b, new Date('2024-03-02T01:00:00Z'), true)!.rrule, 'FREQ=WEEKLY;INTERVAL=2;BYDAY=SA');
});

test('monthly on the last Friday until a date, yearly on a day, every weekday, every 3 days', () => {
  const until = minutes('2024-12-27T00:00:00Z');
  const nth = blob({ freq: 0x200c, patternType: 3, period: 1, specific: [0b0100000, 5], endType: 0x2021, count: 0, start: '2024-01-26T00:00:00Z', end: until, startOffset: 600 });
  assert.equal(parseRecurrence(nth, new Date('2024-01-26T10:00:00Z'), true)!.rrule, 'FREQ=MONTHLY;BYDAY=FR;BYSETPOS=-1;UNTIL=20241227T100000Z');
  const yearly = blob({ freq: 0x200d, patternType: 2, period: 12, specific: [14], endType: 0x2023, count: 0, start: '2024-02-14T00:00:00Z', end: 0x5ae980df, startOffset: 0 });
  assert.equal(parseRecurrence(yearly, new Date('2024-02-14T00:00:00Z'), true)!.rrule, 'FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=14');
  const weekdays = blob({ freq: 0x200a, patternType: 1, period: 1, specific: [0b0111110], endType: 0x2023, count: 0, start: '2024-01-01T00:00:00Z', end: 0x5ae980df, startOffset: 480 });
  assert.equal(parseRecurrence(weekdays, new Date('2024-01-01T08:00:00Z'), true)!.rrule, 'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR');
  const daily = blob({ freq: 0x200a, patternType: 0, period: 3 * 1440, specific: [], endType: 0x2022, count: 4, start: '2024-01-01T00:00:00Z', end: 0x5ae980df, startOffset: 480 });
  assert.equal(parseRecurrence(daily, new Date('2024-01-01T08:00:00Z'), true)!.rrule, 'FREQ=DAILY;INTERVAL=3;COUNT=4');
  assert.equal(parseRecurrence(Buffer.from([1, 2, 3]), null, true), undefined, 'a blob it cannot read gives no rule');
});

test('an Outlook task becomes a VTODO with dates as days, status, percent, priority, and the same text every time', () => {
  const task = {
    subject: 'Send the report; then, call Bob', body: 'Line one\nLine two', taskStartDate: new Date('2024-05-01T00:00:00Z'), taskDueDate: new Date('2024-05-03T00:00:00Z'),
    taskStatus: 1, percentComplete: 0.5, taskDateCompleted: null, importance: 2, isTaskRecurring: false, taskRecurrencePattern: null,
    descriptorNodeId: { toString: () => '2097188' }, creationTime: new Date('2024-04-30T12:00:00Z'), getDateItem: () => new Date('2024-04-30T13:00:00Z'),
  };
  const one = taskTodo(task as never);
  assert.equal(one.kind, 'tasks');
  const text = one.data.toString();
  assert.match(text, /^BEGIN:VCALENDAR\r\nVERSION:2\.0\r\n/);
  assert.match(text, /^BEGIN:VTODO\r$/m);
  assert.match(text, /^UID:pst-[0-9a-f]{32}@cutover\r$/m);
  assert.match(text, /^DTSTAMP:20240430T130000Z\r$/m);
  assert.match(text, /^SUMMARY:Send the report\\; then\\, call Bob\r$/m);
  assert.match(text, /^DESCRIPTION:Line one\\nLine two\r$/m);
  assert.match(text, /^DTSTART;VALUE=DATE:20240501\r$/m);
  assert.match(text, /^DUE;VALUE=DATE:20240503\r$/m);
  assert.match(text, /^STATUS:IN-PROCESS\r$/m);
  assert.match(text, /^PERCENT-COMPLETE:50\r$/m);
  assert.match(text, /^PRIORITY:1\r$/m);
  assert.ok(taskTodo(task as never).data.equals(one.data), 'deterministic');
});

test('content lines fold at 75 octets without cutting a UTF-8 character', () => {
  const folded = foldLine(`SUMMARY:${'é'.repeat(60)}`);
  for (const line of folded.split('\r\n').filter(Boolean)) assert.ok(Buffer.byteLength(line) <= 75, line);
  assert.equal(folded.replace(/\r\n /g, ''), `SUMMARY:${'é'.repeat(60)}\r\n`);
});

/** A one-off entry ID (MS-OXCDATA 2.2.5.1): flags, the one-off provider GUID, version, flags, three strings. */
function oneOff(name: string, type: string, address: string, unicode: boolean): Buffer {
  const text = (s: string) => (unicode ? Buffer.from(`${s}\0`, 'utf16le') : Buffer.from(`${s}\0`, 'latin1'));
  const head = Buffer.alloc(24);
  Buffer.from('812b1fa4bea310199d6e00dd010f5402', 'hex').copy(head, 4);
  head.writeUInt16LE(unicode ? 0x8001 : 0x0001, 22);
  return Buffer.concat([head, text(name), text(type), text(address)]);
}

test('one-off entry IDs: UTF-16 and 8-bit; a truncated one or another kind of entry ID is not one', () => {
  assert.deepEqual(parseOneOff(oneOff('Zoë Ärger', 'SMTP', 'zoe@example.test', true)), { name: 'Zoë Ärger', addressType: 'SMTP', address: 'zoe@example.test' });
  assert.deepEqual(parseOneOff(oneOff('Zoë', 'SMTP', 'zoe@example.test', false)), { name: 'Zoë', addressType: 'SMTP', address: 'zoe@example.test' });
  const whole = oneOff('Zoë', 'SMTP', 'zoe@example.test', true);
  assert.equal(parseOneOff(whole.subarray(0, whole.length - 2)), undefined, 'no terminator');
  const wrapped = Buffer.from(whole);
  wrapped[4] = 0xc0; // another provider: a wrapped contact entry ID, not an address
  assert.equal(parseOneOff(wrapped), undefined);
});

test('dist-list.pst: the distribution list becomes a contact group of its three members (readpst reads the same member blobs but writes no group)', async () => {
  const source = openPst(path.join(import.meta.dirname, 'pst', 'dist-list.pst'));
  const cards: string[] = [];
  for await (const item of source.items()) if (item.kind === 'dav' && item.collection === 'addressbook') cards.push(item.data.toString('utf8'));
  await source.close();
  const group = cards.find((c) => c.includes('X-ADDRESSBOOKSERVER-KIND:group'));
  assert.ok(group, `a group among ${cards.length} cards`);
  assert.match(group, /^VERSION:3\.0\r$/m);
  assert.match(group, /^FN:test dist list\r$/m);
  assert.deepEqual([...group.matchAll(/^X-ADDRESSBOOKSERVER-MEMBER:(.*)\r$/gm)].map((m) => m[1]), ['mailto:contact1@rjohnson.id.au', 'mailto:dist1@rjohnson.id.au', 'mailto:dist2@rjohnson.id.au']);
});
