// Standalone calendar (.ics) and address book (.vcf) files: split into the one-item resources
// CalDAV and CardDAV store (server/groupware/ical.ts), each kept as it is written in the file. The
// collection is named after the file. A card without a UID (Outlook's vCard 2.1 export) gets one
// derived from its bytes, since CardDAV servers refuse cards without one.
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { splitICalendar, splitVCards } from '../groupware/ical.ts';
import { itemUid } from '../groupware/dav/writer.ts';
import { unreadable, type FileItem, type FileSource } from './items.ts';

/** A calendar or address book file is read whole to be split by UID: this much at most. */
export const MAX_DAV_FILE_BYTES = 64 * 1024 * 1024;

function collectionName(file: string): string[] {
  return [path.basename(file).replace(/\.(ics|ical|ifb|vcs|vcf|vcard)$/i, '') || path.basename(file)];
}

async function readWhole(file: string): Promise<string> {
  const info = await stat(file);
  if (info.size > MAX_DAV_FILE_BYTES) throw unreadable(file, `${info.size} bytes is over the ${MAX_DAV_FILE_BYTES}-byte limit for one calendar or address book file (it is split by UID in memory)`);
  return readFile(file, 'utf8');
}

function summaryOf(text: string): string {
  const unfolded = text.replace(/\r?\n[ \t]/g, '');
  const line = /^(?:SUMMARY|FN)(?:;[^:\r\n]*)?:([^\r\n]*)$/im.exec(unfolded)?.[1];
  return (line ?? '').replace(/\\([,;\\])/g, '$1').replace(/\\n/gi, ' ').trim().slice(0, 200) || '(no title)';
}

export function openIcs(file: string): FileSource {
  const folder = collectionName(file);
  return {
    path: file,
    format: 'ics',
    folders: async () => [],
    async *items(): AsyncGenerator<FileItem> {
      const text = await readWhole(file);
      if (!/^BEGIN:VCALENDAR\r?$/im.test(text)) throw unreadable(file, 'no BEGIN:VCALENDAR: not an iCalendar file');
      let parts;
      try {
        parts = splitICalendar(text);
      } catch (err) {
        throw unreadable(file, (err as Error).message, err);
      }
      for (const [index, part] of parts.entries()) {
        const id = part.uid ? `uid:${part.uid}` : `#${index}`;
        const kinds = new Set([...part.text.matchAll(/^BEGIN:(VEVENT|VTODO|VJOURNAL|VFREEBUSY)\r?$/gim)].map((m) => m[1]!.toUpperCase()));
        if (kinds.has('VJOURNAL') || kinds.has('VFREEBUSY')) {
          yield { kind: 'skip', id, folder, collection: 'calendar', reason: `a ${[...kinds].join('/')}: CalDAV servers take events and tasks, this is not imported` };
          continue;
        }
        if (!part.uid) {
          yield { kind: 'skip', id, folder, collection: 'calendar', reason: `${summaryOf(part.text)}: a component without a UID, which CalDAV requires` };
          continue;
        }
        yield { kind: 'dav', id, folder, collection: kinds.has('VTODO') && !kinds.has('VEVENT') ? 'tasks' : 'calendar', data: Buffer.from(part.text, 'utf8'), label: summaryOf(part.text) };
      }
    },
    close: async () => undefined,
  };
}

/** A UID line added before END:VCARD, in the card's own line ending. */
function withUid(card: string): string {
  if (itemUid(Buffer.from(card, 'utf8'))) return card;
  const eol = card.includes('\r\n') ? '\r\n' : '\n';
  const uid = `vcf-${createHash('sha256').update(card).digest('hex').slice(0, 32)}@cutover`;
  return card.replace(/END:VCARD(\r?\n)?$/i, `UID:${uid}${eol}END:VCARD${eol}`);
}

export function openVcf(file: string): FileSource {
  const folder = collectionName(file);
  return {
    path: file,
    format: 'vcf',
    folders: async () => [],
    async *items(): AsyncGenerator<FileItem> {
      const text = await readWhole(file);
      let cards: string[];
      try {
        cards = splitVCards(text);
      } catch (err) {
        throw unreadable(file, (err as Error).message, err);
      }
      if (!cards.length) throw unreadable(file, 'no BEGIN:VCARD … END:VCARD: not an address book file');
      const seen = new Set<string>();
      for (const [index, card] of cards.entries()) {
        const complete = withUid(card);
        const uid = itemUid(Buffer.from(complete, 'utf8'));
        // The UID is the item's id; a second card with the same UID keeps its place in the file.
        const id = uid && !seen.has(uid) ? `uid:${uid}` : `#${index}`;
        if (uid) seen.add(uid);
        yield { kind: 'dav', id, folder, collection: 'addressbook', data: Buffer.from(complete, 'utf8'), label: summaryOf(card) };
      }
    },
    close: async () => undefined,
  };
}
