// Test data for the groupware copy: items made here (vCard 3 and 4, a photo, non-ASCII names, a
// weekly event with a moved and a cancelled occurrence, an all-day event, a task) and the real
// sample files of ../shared/testdata/pst (US-Holidays.ics split per UID, Contact.vcf and
// gmail-contact.vcf, both vCard 2.1 written by Outlook/Gmail exports).
import { readFileSync } from 'node:fs';
import { DavClient, type DavCollection } from '../../server/groupware/dav/client.ts';
import { splitICalendar, splitVCards } from '../../server/groupware/ical.ts';

export const PST_SAMPLES = new URL('./testdata', import.meta.url).pathname;

const crlf = (lines: string[]) => lines.join('\r\n') + '\r\n';
const PHOTO = Buffer.alloc(600, 7).toString('base64');

export const RECURRING_UID = 'weekly-standup-0001@cutover.test';

export const recurringEvent = crlf([
  'BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//cutover//tests//EN',
  'BEGIN:VTIMEZONE', 'TZID:Europe/Paris',
  'BEGIN:STANDARD', 'DTSTART:19701025T030000', 'RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU', 'TZOFFSETFROM:+0200', 'TZOFFSETTO:+0100', 'END:STANDARD',
  'BEGIN:DAYLIGHT', 'DTSTART:19700329T020000', 'RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU', 'TZOFFSETFROM:+0100', 'TZOFFSETTO:+0200', 'END:DAYLIGHT',
  'END:VTIMEZONE',
  'BEGIN:VEVENT', `UID:${RECURRING_UID}`, 'DTSTAMP:20260101T090000Z', 'DTSTART;TZID=Europe/Paris:20260105T093000', 'DTEND;TZID=Europe/Paris:20260105T094500',
  'RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=20', 'EXDATE;TZID=Europe/Paris:20260119T093000', 'SUMMARY:Réunion d’équipe — stand-up', 'END:VEVENT',
  'BEGIN:VEVENT', `UID:${RECURRING_UID}`, 'DTSTAMP:20260101T090000Z', 'RECURRENCE-ID;TZID=Europe/Paris:20260112T093000',
  'DTSTART;TZID=Europe/Paris:20260112T110000', 'DTEND;TZID=Europe/Paris:20260112T111500', 'SUMMARY:Réunion d’équipe (moved to 11:00)', 'END:VEVENT',
  'END:VCALENDAR',
]);

export const allDayEvent = crlf([
  'BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//cutover//tests//EN',
  'BEGIN:VEVENT', 'UID:all-day-0002@cutover.test', 'DTSTAMP:20260101T090000Z', 'DTSTART;VALUE=DATE:20260714', 'DTEND;VALUE=DATE:20260715',
  'SUMMARY:Fête nationale', 'END:VEVENT', 'END:VCALENDAR',
]);

export const task = crlf([
  'BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//cutover//tests//EN',
  'BEGIN:VTODO', 'UID:task-0003@cutover.test', 'DTSTAMP:20260101T090000Z', 'DUE;VALUE=DATE:20260301', 'PRIORITY:1', 'STATUS:NEEDS-ACTION',
  'SUMMARY:Renouveler le certificat TLS', 'END:VTODO', 'END:VCALENDAR',
]);

export const vcard3 = crlf([
  'BEGIN:VCARD', 'VERSION:3.0', 'UID:card-3-zoe@cutover.test', 'N:Ångström;Zoë;;;', 'FN:Zoë Ångström', 'EMAIL;TYPE=INTERNET:zoe@example.test',
  'TEL;TYPE=CELL:+33 6 12 34 56 78', 'END:VCARD',
]);

export const vcard4 = crlf([
  'BEGIN:VCARD', 'VERSION:4.0', 'UID:urn:uuid:4f0b7c2e-9d7a-4d0e-8a53-3c1d2f3e4a5b', 'FN:李小龙', 'N:李;小龙;;;', 'EMAIL:bruce@example.test',
  `PHOTO:data:image/jpeg;base64,${PHOTO}`, 'END:VCARD',
]);

export interface LoadedCorpus { collections: number; items: number; calendarItems: number; contactItems: number; taskItems: number }

interface CollectionSpec { slug: string; like: Omit<DavCollection, 'href'>; items: Array<{ name: string; data: string; type: string }> }

export function corpus(): CollectionSpec[] {
  const holidays = splitICalendar(readFileSync(`${PST_SAMPLES}/US-Holidays.ics`, 'utf8'));
  const samples = [...splitVCards(readFileSync(`${PST_SAMPLES}/Contact.vcf`, 'utf8')), ...splitVCards(readFileSync(`${PST_SAMPLES}/gmail-contact.vcf`, 'utf8'))];
  const vcard = 'text/vcard; charset=utf-8';
  const ical = 'text/calendar; charset=utf-8';
  return [
    { slug: 'contacts', like: { kind: 'addressbook', displayName: 'Contacts — équipe', description: 'Carnet principal', components: [] },
      items: [{ name: 'zoe.vcf', data: vcard3, type: vcard }, { name: 'bruce.vcf', data: vcard4, type: vcard }, ...samples.map((data, i) => ({ name: `sample-${i}.vcf`, data, type: vcard }))] },
    { slug: 'work', like: { kind: 'calendar', displayName: 'Travail', color: '#FF8800FF', description: 'Réunions', components: ['VEVENT'] },
      items: [{ name: 'standup.ics', data: recurringEvent, type: ical }, { name: 'fete.ics', data: allDayEvent, type: ical }] },
    { slug: 'holidays', like: { kind: 'calendar', displayName: 'US Holidays', components: ['VEVENT'] },
      items: holidays.map((h, i) => ({ name: `holiday-${i}.ics`, data: h.text, type: ical })) },
    { slug: 'tasks', like: { kind: 'calendar', displayName: 'Tâches', components: ['VTODO'] }, items: [{ name: 'tls.ics', data: task, type: ical }] },
  ];
}

/** Creates the corpus's collections under `home` and puts every item; returns what was accepted. */
export async function loadCorpus(client: DavClient, home: string): Promise<LoadedCorpus & { refused: string[] }> {
  const loaded = { collections: 0, items: 0, calendarItems: 0, contactItems: 0, taskItems: 0, refused: [] as string[] };
  for (const spec of corpus()) {
    const href = `${home}${spec.slug}/`;
    await client.createCollection(href, { ...spec.like, href });
    loaded.collections++;
    for (const item of spec.items) {
      const put = await client.put(href + item.name, Buffer.from(item.data, 'utf8'), item.type, { ifNoneMatch: true });
      if (!put.ok) { loaded.refused.push(`${item.name}: ${put.words}`); continue; }
      loaded.items++;
      if (spec.like.kind === 'addressbook') loaded.contactItems++;
      else if (spec.like.components.includes('VTODO')) loaded.taskItems++;
      else loaded.calendarItems++;
    }
  }
  return loaded;
}
