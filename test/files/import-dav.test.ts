// PST contacts, calendars and tasks, and standalone .ics/.vcf files, imported through the DAV
// writer into a real Radicale (and mail into a real Dovecot), counted against readpst's.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { addDomain, addMailbox, startDovecot, type DovecotInstance } from '../../server/devservers/dovecot.ts';
import { startRadicale, type RadicaleInstance } from '../../server/devservers/radicale.ts';
import { DavClient } from '../../server/groupware/dav/client.ts';
import { discoverHomes } from '../../server/groupware/dav/discovery.ts';
import { DavSession } from '../../server/groupware/dav/http.ts';
import { appointmentEvent } from '../../server/files/pst-groupware.ts';
import { cutover, tempDataDir } from '../support/cli.ts';
import { fakeAppointment, recurrenceBlob, tzDefinition, tzRule } from '../support/pst-blobs.ts';
import { startUtc } from '../support/vtimezone.ts';

const PST_DIR = path.join(import.meta.dirname, 'pst');
const DAV_DATA = path.join(import.meta.dirname, '..', 'groupware', 'testdata');
const PASSWORD = 'dav-file-pw';
let dest: DovecotInstance;
let radicale: RadicaleInstance;
let dir: string;
let users = 0;

before(async () => {
  [dest, radicale] = await Promise.all([startDovecot(), startRadicale()]);
  await addDomain(dest, 'example.test');
  dir = tempDataDir();
  writeFileSync(path.join(dir, 'pw'), `${PASSWORD}\n`);
});
after(async () => { await Promise.all([dest?.stop(), radicale?.stop()]); });

async function newUser(): Promise<string> {
  const user = `d${++users}@example.test`;
  await addMailbox(dest, user, PASSWORD);
  await radicale.addUser(user, PASSWORD);
  return user;
}

const destArgs = (user: string) => ['--dest', `imap://${encodeURIComponent(user)}@127.0.0.1:${dest.port}`, '--dest-password-file', path.join(dir, 'pw'), '--dest-dav', radicale.url];
const importFile = (files: string[], user: string, extra: string[] = []) => cutover(['import-file', ...files, ...destArgs(user), ...extra], { dataDir: dir, timeoutMs: 120_000 });

/** What Radicale holds for the user: collection display name → the items' texts. */
async function stored(user: string): Promise<Map<string, string[]>> {
  const client = new DavClient(new DavSession({ url: radicale.url, tlsVerify: true, auth: { user, pass: PASSWORD } }));
  try {
    const out = new Map<string, string[]>();
    for (const c of await client.collections(await discoverHomes(client))) {
      const texts: string[] = [];
      for await (const ref of client.items(c.href)) {
        const got = await client.get(ref.href, 1024 * 1024);
        if ('data' in got) texts.push(got.data.toString('utf8'));
      }
      out.set(c.displayName ?? c.href, texts);
    }
    return out;
  } finally {
    client.session.close();
  }
}

interface Collection { source: string; kind: string; items: number; copied: number; alreadyImported: number; skipped: number; skips: Array<{ reason: string }>; listed: Array<{ label: string }>; state: string }

/** readpst's "done" counts for the contacts and calendar folders (PROVENANCE.md). */
const readpst: Record<string, Record<string, number>> = {
  'Outlook.pst': { Calendar: 1, Contacts: 1 },
  'source.pst': { Calendar: 1, Contacts: 1 },
  'Test_part1.pst': { Calendar: 9, Contacts: 19 },
  'dist-list.pst': { Calendar: 1, Contacts: 1 },
  'passworded.pst': { Contacts: 1 },
};

for (const [file, expected] of Object.entries(readpst)) {
  test(`${file}: contacts and events reach Radicale, at least readpst's count per folder; a second run imports none`, { timeout: 180_000 }, async () => {
    const user = await newUser();
    const dry = await importFile([path.join(PST_DIR, file)], user, ['--dry-run', '--json']);
    assert.equal(dry.code, 0, dry.stderr);
    const plan = JSON.parse(dry.stdout) as { collections: Collection[] };
    assert.equal((await stored(user)).size, 0, 'a dry run writes nothing to the DAV server');
    for (const [folder, n] of Object.entries(expected)) {
      const listed = plan.collections.find((c) => c.source === folder);
      assert.ok(listed && listed.items >= n && listed.listed.length === listed.items, `${file} ${folder}: the dry run lists ${listed?.items} < readpst's ${n}`);
    }
    const run = await importFile([path.join(PST_DIR, file)], user, ['--json']);
    assert.equal(run.code, 0, run.stderr);
    const report = JSON.parse(run.stdout) as { collections: Collection[]; folders: Array<{ source: string; skipped: number; skips: Array<{ reason: string }> }> };
    const got = await stored(user);
    for (const [folder, n] of Object.entries(expected)) {
      const c = report.collections.find((r) => r.source === folder)!;
      assert.equal(c.copied, c.items, `${file} ${folder}: every item imported (${JSON.stringify(c.skips)})`);
      assert.ok((got.get(folder)?.length ?? 0) >= n, `${file} ${folder}: Radicale holds ${got.get(folder)?.length} < readpst's ${n}`);
    }
    const notImported = report.folders.filter((f) => f.skipped).map((f) => [f.source, f.skips.map((s) => s.reason)]);
    for (const [, reasons] of notImported) for (const reason of reasons as string[]) assert.match(reason, /\w{4}/);
    const again = JSON.parse((await importFile([path.join(PST_DIR, file)], user, ['--json'])).stdout) as { collections: Collection[] };
    for (const c of again.collections) assert.deepEqual([c.copied, c.alreadyImported], [0, c.items], `${file} ${c.source}: nothing imported twice`);
    const after = await stored(user);
    for (const [name, items] of got) assert.equal(after.get(name)?.length, items.length, `${name}: no duplicate on Radicale`);
    console.log(`${file}: Radicale ${JSON.stringify(Object.fromEntries([...got].map(([k, v]) => [k, v.length])))}; readpst ${JSON.stringify(expected)}; not importable ${JSON.stringify(notImported)}`);
  });
}

test('dist-list.pst: the weekly recurring appointment keeps its rule in its own zone and its two moved occurrences as overrides Radicale accepts; the contact its fields; the distribution list becomes a group', { timeout: 120_000 }, async () => {
  const user = await newUser();
  const run = await importFile([path.join(PST_DIR, 'dist-list.pst')], user, ['--json']);
  assert.equal(run.code, 0, run.stderr);
  const got = await stored(user);
  const [event] = got.get('Calendar')!;
  const unfolded = event!.replace(/\r?\n[ \t]/g, '');
  assert.match(unfolded, /^SUMMARY:Test appointment\r?$/m);
  assert.match(unfolded, /^RRULE:FREQ=WEEKLY;BYDAY=TU\r?$/m);
  assert.match(unfolded, /^DTSTART;TZID=Pacific Standard Time:20160802T080000\r?$/m);
  assert.equal(startUtc(event!), '20160802T150000Z', 'readpst\'s start, through the VTIMEZONE Radicale kept');
  // The two moved occurrences (readpst writes none) are overrides Radicale accepted into the same resource.
  assert.deepEqual([...unfolded.matchAll(/^RECURRENCE-ID;TZID=Pacific Standard Time:(\d{8}T\d{6})\r?$/gm)].map((m) => m[1]), ['20160823T080000', '20160830T080000']);
  assert.match(unfolded, /^DTSTART;TZID=Pacific Standard Time:20160830T100000\r?$/m);
  assert.deepEqual([...unfolded.matchAll(/^EXDATE[^:]*:(.*?)\r?$/gm)].map((m) => m[1]), ['20160809T080000']);
  const cards = got.get('Contacts')!;
  const card = cards.find((c) => /^FN:contact name 1\r?$/m.test(c));
  assert.match(card!, /^EMAIL;TYPE=INTERNET:contact1@rjohnson\.id\.au\r?$/m);
  const group = cards.find((c) => /^X-ADDRESSBOOKSERVER-KIND:group\r?$/m.test(c));
  assert.match(group!, /^FN:test dist list\r?$/m);
  assert.equal(field(group!, 'X-ADDRESSBOOKSERVER-MEMBER').length, 3);
  const report = JSON.parse(run.stdout) as { folders: Array<{ source: string; skipped: number }> };
  assert.equal(report.folders.find((f) => f.source === 'Contacts')?.skipped ?? 0, 0);
});

test('hand-built PST series with a moved occurrence (Unicode subject) and a relocated one: Radicale accepts the resource with its overrides, in the zone\'s wall time and in UTC', { timeout: 120_000 }, async () => {
  const user = await newUser();
  // Mondays 09:00 Berlin from 4 March 2024, six times; 11 March deleted; 18 March in Room 2; 25 March moved to Tuesday 2 April 14:00.
  const blob = recurrenceBlob({
    freq: 0x200b, patternType: 1, period: 1, specific: [0b0000010], endType: 0x2022, count: 6,
    deleted: ['2024-03-11T00:00:00Z', '2024-03-18T00:00:00Z', '2024-03-25T00:00:00Z'], modified: ['2024-03-18T00:00:00Z', '2024-04-02T00:00:00Z'], start: '2024-03-04T00:00:00Z', end: 0x5ae980df, startOffset: 540,
    exceptions: [
      { original: '2024-03-18T09:00:00', start: '2024-03-18T09:00:00', end: '2024-03-18T10:00:00', location: 'Room 2' },
      { original: '2024-03-25T09:00:00', start: '2024-04-02T14:00:00', end: '2024-04-02T15:00:00', subject: 'Moved', wideSubject: 'Déplacé – Café ✓' },
    ],
  });
  const berlin = tzDefinition('W. Europe Standard Time', [tzRule(2007, -60, -60, [10, 0, 5, 3], [3, 0, 5, 2])]);
  const [first, firstEnd] = [new Date('2024-03-04T08:00:00Z'), new Date('2024-03-04T08:30:00Z')];
  writeFileSync(path.join(dir, 'Zoned.ics'), appointmentEvent(fakeAppointment(blob, first, firstEnd, berlin)).data);
  writeFileSync(path.join(dir, 'Utc.ics'), appointmentEvent(fakeAppointment(blob, first, firstEnd)).data);
  const run = await importFile([path.join(dir, 'Zoned.ics'), path.join(dir, 'Utc.ics')], user, ['--json']);
  assert.equal(run.code, 0, run.stderr);
  const report = JSON.parse(run.stdout) as { collections: Collection[] };
  assert.deepEqual(report.collections.map((c) => [c.source, c.items, c.copied]), [['Zoned', 1, 1], ['Utc', 1, 1]], JSON.stringify(report.collections.map((c) => c.skips)));
  const got = await stored(user);
  const zoned = got.get('Zoned')![0]!.replace(/\r?\n[ \t]/g, '');
  const utc = got.get('Utc')![0]!.replace(/\r?\n[ \t]/g, '');
  for (const text of [zoned, utc]) {
    assert.equal([...text.matchAll(/^BEGIN:VEVENT\r?$/gm)].length, 3);
    assert.match(text, /^SUMMARY:Déplacé – Café ✓\r?$/m);
    assert.match(text, /^LOCATION:Room 2\r?$/m);
  }
  assert.deepEqual([...zoned.matchAll(/^RECURRENCE-ID;TZID=W\. Europe Standard Time:(.*?)\r?$/gm)].map((m) => m[1]), ['20240318T090000', '20240325T090000']);
  assert.match(zoned, /^DTSTART;TZID=W\. Europe Standard Time:20240402T140000\r?$/m);
  assert.deepEqual([...utc.matchAll(/^RECURRENCE-ID:(.*?)\r?$/gm)].map((m) => m[1]), ['20240318T080000Z', '20240325T080000Z']);
  assert.deepEqual([...utc.matchAll(/^EXDATE:(.*?)\r?$/gm)].map((m) => m[1]), ['20240311T080000Z']);
});

test('standalone .ics and .vcf files: one resource per UID or card, counted against the file; the dry run lists them by name', { timeout: 120_000 }, async () => {
  const user = await newUser();
  const files = ['US-Holidays.ics', 'Contact.vcf', 'gmail-contact.vcf'].map((f) => path.join(DAV_DATA, f));
  const dry = await importFile(files, user, ['--dry-run']);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /US-Holidays → \(CalDAV\/CardDAV\): 32 events/);
  assert.match(dry.stdout, /Independence Day/);
  assert.match(dry.stdout, /FirstName LastName/);
  const run = await importFile(files, user, ['--json']);
  const report = JSON.parse(run.stdout) as { collections: Collection[] };
  const byName = Object.fromEntries(report.collections.map((c) => [c.source, [c.items, c.copied]]));
  // US-Holidays.ics: 32 VEVENTs with 32 distinct UIDs; each .vcf one card (Outlook's has no UID: one is added).
  assert.deepEqual(byName, { 'US-Holidays': [32, 32], Contact: [1, 0], 'gmail-contact': [1, 1] });
  // Radicale's vobject cannot re-serialise Outlook's base64 X-MS-CARDPICTURE ("a bytes-like object is
  // required"): the card is refused with the server's words, and a refusal is exit code 1.
  const outlookCard = report.collections.find((c) => c.source === 'Contact')!;
  assert.match(outlookCard.skips[0]!.reason, /FirstName LastName: the destination refused it: 400/);
  assert.equal(run.code, 1);
  const got = await stored(user);
  assert.equal(got.get('US-Holidays')?.length, 32);
  assert.equal(got.get('gmail-contact')?.length, 1);
  console.log(`ics/vcf: ${JSON.stringify(Object.fromEntries([...got].map(([k, v]) => [k, v.length])))}`);
});

test('a .ics holding events and tasks: the tasks go to a task list of their own, the events to the calendar', { timeout: 120_000 }, async () => {
  const user = await newUser();
  const ics = path.join(dir, 'Work.ics');
  writeFileSync(ics, [
    'BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//test//EN',
    'BEGIN:VEVENT', 'UID:ev-1@test', 'DTSTAMP:20240101T000000Z', 'DTSTART:20240105T090000Z', 'RRULE:FREQ=WEEKLY;COUNT=3', 'SUMMARY:Stand-up', 'END:VEVENT',
    'BEGIN:VEVENT', 'UID:ev-1@test', 'RECURRENCE-ID:20240112T090000Z', 'DTSTAMP:20240101T000000Z', 'DTSTART:20240112T100000Z', 'SUMMARY:Stand-up (moved)', 'END:VEVENT',
    'BEGIN:VTODO', 'UID:todo-1@test', 'DTSTAMP:20240101T000000Z', 'SUMMARY:Write the report', 'STATUS:NEEDS-ACTION', 'END:VTODO',
    'BEGIN:VJOURNAL', 'UID:j-1@test', 'DTSTAMP:20240101T000000Z', 'SUMMARY:A diary entry', 'END:VJOURNAL',
    'END:VCALENDAR', '',
  ].join('\r\n'));
  const run = await importFile([ics], user, ['--json']);
  assert.equal(run.code, 0, run.stderr);
  const report = JSON.parse(run.stdout) as { collections: Collection[] };
  const byKind = Object.fromEntries(report.collections.map((c) => [c.kind, [c.items, c.copied, c.skipped]]));
  assert.deepEqual(byKind, { calendar: [2, 1, 1], tasks: [1, 1, 0] }, 'the recurring event and its exception are one resource; the journal is listed');
  const journal = report.collections.find((c) => c.kind === 'calendar')!.skips[0]!;
  assert.match(journal.reason, /VJOURNAL/);
  const got = await stored(user);
  assert.equal(got.get('Work')?.length, 1);
  assert.match(got.get('Work')![0]!, /RECURRENCE-ID/);
  assert.match(got.get('Work (tasks)')?.[0] ?? '', /SUMMARY:Write the report/);
});

test('no DAV server given or found: the items are listed as not imported with the reason, the mail still goes', { timeout: 120_000 }, async () => {
  const user = await newUser();
  const run = await cutover(['import-file', path.join(PST_DIR, 'Outlook.pst'), '--dest', `imap://${encodeURIComponent(user)}@127.0.0.1:${dest.port}`, '--dest-password-file', path.join(dir, 'pw'), '--json'], { dataDir: dir });
  assert.equal(run.code, 0, run.stderr);
  const report = JSON.parse(run.stdout) as { copied: number; collections: Collection[] };
  assert.ok(report.copied > 0);
  for (const c of report.collections) {
    assert.equal(c.state, 'unavailable');
    assert.equal(c.skipped, c.items);
    assert.match(c.skips[0]!.reason, /no CalDAV\/CardDAV server/);
  }
});

test('a wrong DAV password stops with the login error, not a silent skip', { timeout: 60_000 }, async () => {
  const user = await newUser();
  const wrong = path.join(dir, 'wrong-dav');
  const other = `w${users}@example.test`;
  await addMailbox(dest, other, PASSWORD);
  await radicale.addUser(other, 'another');
  writeFileSync(wrong, `${PASSWORD}\n`);
  const run = await cutover(['import-file', path.join(DAV_DATA, 'Contact.vcf'), '--dest', `imap://${encodeURIComponent(other)}@127.0.0.1:${dest.port}`, '--dest-password-file', wrong, '--dest-dav', radicale.url], { dataDir: dir });
  assert.notEqual(run.code, 0);
  assert.match(run.stderr, /AUTH_FAILED|password|login/i);
  void user;
});

/** What readpst (pst-utils, `readpst -r -M`) writes for a PST's contacts and calendar folders: one text per item. */
function readpstItems(file: string): Map<string, string[]> {
  const out = mkdtempSync(path.join(os.tmpdir(), 'cutover-readpst-'));
  try {
    execFileSync('/usr/bin/readpst', ['-q', '-r', '-M', '-o', out, file], { stdio: 'ignore' });
    const found = new Map<string, string[]>();
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) { walk(full); continue; }
        const text = readFileSync(full, 'utf8');
        if (/^BEGIN:(VCARD|VCALENDAR)/.test(text)) found.set(path.basename(dir), [...found.get(path.basename(dir)) ?? [], text]);
      }
    };
    walk(out);
    return found;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** A property's values in a card or event; a VTIMEZONE's own (its RRULEs, DTSTARTs) left out. */
const field = (text: string, name: string) => [...text.replace(/\r?\n[ \t]/g, '').replace(/^BEGIN:VTIMEZONE\r?$[\s\S]*?^END:VTIMEZONE\r?\n/gm, '').matchAll(new RegExp(`^${name}(?:;[^:\\r\\n]*)?:(.*?)\\r?$`, 'gim'))].map((m) => m[1]!.trim());

test('live cross-check with readpst: every event and contact readpst reads is on Radicale with the same summary, start, rule, and e-mail', { timeout: 240_000 }, async () => {
  const lines: string[] = [];
  for (const file of Object.keys(readpst)) {
    const user = await newUser();
    const run = await importFile([path.join(PST_DIR, file)], user, ['--json']);
    assert.equal(run.code, 0, run.stderr);
    const got = await stored(user);
    const theirs = readpstItems(path.join(PST_DIR, file));
    for (const [folder, items] of theirs) {
      const ours = got.get(folder) ?? [];
      assert.ok(ours.length >= items.length, `${file} ${folder}: ${ours.length} on Radicale < readpst's ${items.length}`);
      for (const item of items) {
        if (item.startsWith('BEGIN:VCALENDAR')) {
          const [summary, start, rule] = [field(item, 'SUMMARY')[0], field(item, 'DTSTART')[0], field(item, 'RRULE')[0]];
          assert.ok(summary && start, `readpst's event has a summary and a start: ${item.slice(0, 300)}`);
          // readpst writes UTC; a series of ours is in its zone's wall time: compared as instants.
          const match = ours.find((o) => field(o, 'SUMMARY')[0] === summary && startUtc(o) === start && field(o, 'RRULE')[0] === rule);
          assert.ok(match, `${file} ${folder}: readpst's event ${summary} ${start} ${rule ?? ''} is on Radicale`);
        } else {
          const emails = field(item, 'EMAIL');
          const name = field(item, 'N')[0];
          assert.ok(name, `readpst's contact has a name: ${item.slice(0, 300)}`);
          // readpst writes N as family;given;middle, as we do.
          const match = ours.find((o) => emails.every((e) => field(o, 'EMAIL').includes(e)) && field(o, 'N')[0]?.split(';')[0] === name.split(';')[0]);
          assert.ok(match, `${file} ${folder}: readpst's contact with ${emails.join(', ')} is on Radicale`);
        }
      }
      lines.push(`${file} ${folder}: readpst ${items.length}, Radicale ${ours.length}`);
    }
  }
  console.log(`readpst live: ${lines.join('; ')}`);
});
