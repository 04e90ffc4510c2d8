import { CutoverError } from '../errors.ts';

/** One message read from a file, with an id that stays the same every time the file is read. */
export interface FileMessage {
  kind: 'message';
  id: string;
  /** Folder path segments inside the file; [] is the inbox. */
  folder: string[];
  content: Buffer;
  flags: string[];
  internalDate?: Date;
}

/** Something the file holds that is not imported, and why. */
export interface FileSkip {
  kind: 'skip';
  id: string;
  folder: string[];
  reason: string;
  size?: number;
  /** Set for an item of a calendar or address book file: reported with the DAV collections. */
  collection?: 'addressbook' | 'calendar' | 'tasks';
}

/** A contact, event or task, as the vCard or iCalendar text CardDAV/CalDAV store. */
export interface FileDavItem {
  kind: 'dav';
  id: string;
  /** The folder (PST) or file name it belongs to: one destination collection per folder and kind. */
  folder: string[];
  collection: 'addressbook' | 'calendar' | 'tasks';
  data: Buffer;
  /** What the dry run shows: a name or a title. */
  label: string;
  /** Something about the item a reader should know (a recurrence that could not be read). */
  note?: string;
}

export type FileItem = FileMessage | FileSkip | FileDavItem;

/**
 * A file opened for import. `folders` is cheap (no message is read), so the folder plan exists
 * before the first message; `items` streams, never holding more than one message at a time.
 */
export interface FileSource {
  path: string;
  format: 'mbox' | 'eml' | 'eml-directory' | 'zip' | 'pst' | 'ics' | 'vcf';
  /** How the file was read, once it has been (an mbox's flavour and why): shown in the report. */
  note?: string;
  folders(): Promise<string[][]>;
  /** Folders among `folders()` that hold contacts, events, tasks or notes: planned and reported, never created over IMAP. */
  nonMailFolders?(): Promise<string[][]>;
  items(): AsyncGenerator<FileItem>;
  close(): Promise<void>;
}

/** Messages over this size are listed as skipped rather than held in memory. */
export const MAX_FILE_MESSAGE_BYTES = 64 * 1024 * 1024;

export function unreadable(file: string, detail: string, cause?: unknown): CutoverError {
  return new CutoverError('FILE_UNREADABLE', { file, detail }, { cause });
}

const HEADER_FIELD = /^[\x21-\x39\x3b-\x7e]+:/;

/** Whether a message starts with a header field (an "EML" of plain text has none). */
export function startsWithHeader(content: Buffer): boolean {
  const firstLine = content.subarray(0, 1000).toString('latin1').split(/\r?\n/, 1)[0] ?? '';
  return HEADER_FIELD.test(firstLine);
}

/** The Date header, for messages whose container gives no arrival time. */
export function dateHeader(content: Buffer): Date | undefined {
  const end = content.indexOf('\r\n\r\n') !== -1 ? content.indexOf('\r\n\r\n') : content.indexOf('\n\n');
  const head = content.subarray(0, end === -1 ? Math.min(content.length, 64 * 1024) : end).toString('latin1');
  const match = /^date:[ \t]*(.+(?:\r?\n[ \t].+)*)/im.exec(head);
  if (!match) return undefined;
  const date = new Date(match[1]!.replace(/\r?\n[ \t]+/g, ' ').replace(/\s*\([^)]*\)\s*$/, '').trim());
  return Number.isNaN(date.getTime()) ? undefined : date;
}
