import { open as openHandle, stat } from 'node:fs/promises';
import path from 'node:path';
import { openIcs, openVcf } from './dav-files.ts';
import { openEml, openEmlDirectory } from './eml.ts';
import { startsWithHeader, unreadable, type FileSource } from './items.ts';
import { openMbox, type MboxFormat } from './mbox.ts';
import { openPst } from './pst.ts';
import { openZipOfEml } from './zip.ts';

export interface OpenOptions { mboxFlavour?: MboxFormat }

type Kind = FileSource['format'];

/** What the first bytes say the file is: the extension is only checked against it. */
function sniff(head: Buffer): Kind | undefined {
  if (head.subarray(0, 4).toString('latin1') === '!BDN') return 'pst';
  if (head.subarray(0, 4).toString('latin1') === 'PK\x03\x04' || head.subarray(0, 4).toString('latin1') === 'PK\x05\x06') return 'zip';
  if (head.subarray(0, 5).toString('latin1') === 'From ') return 'mbox';
  // A byte-order mark, blank lines or a Content-Type line may come before BEGIN.
  const text = head.toString('utf8').replace(/^\uFEFF/, '');
  if (/^\s*BEGIN:VCALENDAR\r?$/im.test(text.split(/\r?\n/).slice(0, 5).join('\n'))) return 'ics';
  if (/^\s*BEGIN:VCARD\r?$/im.test(text.split(/\r?\n/).slice(0, 5).join('\n'))) return 'vcf';
  if (startsWithHeader(head)) return 'eml';
  return undefined;
}

const byExtension: Record<string, Kind> = { '.pst': 'pst', '.ost': 'pst', '.zip': 'zip', '.mbox': 'mbox', '.mbx': 'mbox', '.eml': 'eml', '.ics': 'ics', '.ical': 'ics', '.vcf': 'vcf', '.vcard': 'vcf' };
const described: Record<Kind, string> = {
  pst: 'an Outlook PST/OST file', zip: 'a ZIP archive', mbox: 'an mbox file', eml: 'a mail message (EML)', 'eml-directory': 'a directory',
  ics: 'a calendar (iCalendar)', vcf: 'an address book (vCard)',
};

/**
 * Opens a file for import by what it holds. A name that promises another kind than the content
 * (a ".pst" that is a ZIP) is refused with both named, rather than guessed at.
 */
export async function openFileSource(file: string, opts: OpenOptions = {}): Promise<FileSource> {
  let info;
  try {
    info = await stat(file);
  } catch (err) {
    throw unreadable(file, (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message, err);
  }
  if (info.isDirectory()) return openEmlDirectory(file);
  if (!info.isFile()) throw unreadable(file, 'not a regular file');
  if (info.size === 0) throw unreadable(file, 'the file is empty');
  const handle = await openHandle(file, 'r').catch((err: Error) => { throw unreadable(file, err.message, err); });
  const head = Buffer.alloc(Math.min(4096, info.size));
  try {
    await handle.read(head, 0, head.length, 0);
  } finally {
    await handle.close();
  }
  const kind = sniff(head);
  const promised = byExtension[path.extname(file).toLowerCase()];
  if (promised && kind !== promised && !(promised === 'eml' && kind === undefined)) {
    throw unreadable(file, `the name says ${described[promised]}, but the content is ${kind ? described[kind] : 'none of the kinds cutover reads (PST, mbox, EML, ZIP of EML, ICS, VCF)'}`);
  }
  switch (kind ?? promised) {
    case 'pst': return openPst(file);
    case 'zip': return openZipOfEml(file);
    case 'mbox': return openMbox(file, opts.mboxFlavour);
    case 'eml': return openEml(file);
    case 'ics': return openIcs(file);
    case 'vcf': return openVcf(file);
    default: throw unreadable(file, 'none of the kinds cutover reads (PST/OST, mbox, EML, a ZIP or directory of EML, ICS, VCF)');
  }
}
