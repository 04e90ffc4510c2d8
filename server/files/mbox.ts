import { createReadStream } from 'node:fs';
import path from 'node:path';
import { detectMboxFlavour, type MboxFlavour } from './mbox-flavour.ts';
import { dateHeader, MAX_FILE_MESSAGE_BYTES, startsWithHeader, unreadable, type FileItem, type FileSource } from './items.ts';

/**
 * mboxo (and mboxcl) escapes a body line "From …" as ">From …" and leaves ">From …" alone, so
 * only one level comes off; mboxrd escapes every ">*From " line by one more ">", so one comes off
 * any depth; mboxcl2 escapes nothing and, like mboxcl, ends each body where its Content-Length says.
 * `auto` (the default) reads the first messages to tell (mbox-flavour.ts).
 */
export type { MboxFlavour } from './mbox-flavour.ts';
export type MboxFormat = MboxFlavour | 'auto';
export const MBOX_FORMATS: readonly MboxFormat[] = ['auto', 'mboxrd', 'mboxo', 'mboxcl', 'mboxcl2'];

const FROM_LINE = /^From (\S+) +(.+?)\s*$/;

/** Thunderbird's X-Mozilla-Status bits (nsMsgMessageFlags). */
const MOZILLA_READ = 0x1;
const MOZILLA_REPLIED = 0x2;
const MOZILLA_MARKED = 0x4;
const MOZILLA_EXPUNGED = 0x8;
const MOZILLA_FORWARDED = 0x1000;

export function mboxFolderName(file: string): string[] {
  const base = path.basename(file).replace(/\.(mbox|mbx|mbs)$/i, '');
  // Apple Mail exports "Name.mbox/mbox": the folder is the directory's name.
  const name = base === 'mbox' && /\.mbox$/i.test(path.basename(path.dirname(file))) ? path.basename(path.dirname(file)).replace(/\.mbox$/i, '') : base;
  return /^(inbox|mbox)$/i.test(name) ? [] : [name];
}

export function openMbox(file: string, format: MboxFormat = 'auto', folder: string[] = mboxFolderName(file)): FileSource {
  const source: FileSource = {
    path: file,
    format: 'mbox',
    folders: async () => [folder],
    async *items() {
      let flavour: MboxFlavour;
      if (format === 'auto') {
        const guess = await detectMboxFlavour(file).catch((err: Error) => { throw unreadable(file, err.message, err); });
        flavour = guess.flavour;
        source.note = `read as ${flavour}: ${guess.why}`;
      } else {
        flavour = format;
        source.note = `read as ${flavour} (as asked)`;
      }
      yield* readMbox(file, flavour, folder);
    },
    close: async () => undefined,
  };
  return source;
}

function unescapeLine(line: Buffer, flavour: MboxFlavour): Buffer {
  if (line[0] !== 0x3e || flavour === 'mboxcl2') return line;
  let depth = 0;
  while (line[depth] === 0x3e) depth++;
  if (line.subarray(depth, depth + 5).toString('latin1') !== 'From ') return line;
  return flavour === 'mboxrd' || depth === 1 ? line.subarray(1) : line;
}

/** asctime() as mbox "From " lines carry it: "Sat Jan  3 01:05:34 1996", sometimes with a zone. */
function fromLineDate(rest: string): Date | undefined {
  const m = /(\w{3}) +(\d{1,2}) +(\d{1,2}:\d{2}(?::\d{2})?) +(?:([+-]\d{4}|[A-Z]{3,4}) +)?(\d{4})(?: +([+-]\d{4}))?/.exec(rest);
  if (!m) return undefined;
  const zone = m[4] && /^[+-]/.test(m[4]) ? m[4] : m[6] ?? '+0000';
  const date = new Date(`${m[1]} ${m[2]} ${m[5]} ${m[3]} GMT${zone}`);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function mozillaFlags(content: Buffer): { flags: string[]; expunged: boolean } | undefined {
  const headEnd = content.indexOf('\n\n');
  const head = content.subarray(0, headEnd === -1 ? Math.min(content.length, 64 * 1024) : headEnd).toString('latin1');
  const m = /^X-Mozilla-Status:[ \t]*([0-9a-f]{1,4})\s*$/im.exec(head);
  if (!m) return undefined;
  const bits = parseInt(m[1]!, 16);
  const flags: string[] = [];
  if (bits & MOZILLA_READ) flags.push('\\Seen');
  if (bits & MOZILLA_REPLIED) flags.push('\\Answered');
  if (bits & MOZILLA_MARKED) flags.push('\\Flagged');
  if (bits & MOZILLA_FORWARDED) flags.push('$Forwarded');
  return { flags, expunged: Boolean(bits & MOZILLA_EXPUNGED) };
}

interface Pending {
  offset: number; fromLine: string; parts: Buffer[]; bytes: number; tooBig: boolean;
  /** mboxcl/mboxcl2: the header so far, until its blank line; then where the body ends (Content-Length). */
  header?: string; bodyEnd?: number;
}

const CONTENT_LENGTH = /^content-length:[ \t]*(\d{1,12})[ \t]*\r?$/im;

/**
 * Streams an mbox: a message starts at a "From " line at the start of the file or after an empty
 * line. Line endings and every other byte are kept; only the escaping ">" comes off. The item id
 * is the byte offset of the message's "From " line.
 */
async function* readMbox(file: string, flavour: MboxFlavour, folder: string[]): AsyncGenerator<FileItem> {
  let offset = 0;
  let carry: Buffer = Buffer.alloc(0);
  let current: Pending | undefined;
  let previousBlank = true;
  let first = true;
  const withLengths = flavour === 'mboxcl' || flavour === 'mboxcl2';

  const finish = (msg: Pending): FileItem => {
    const id = `@${msg.offset}`;
    if (msg.tooBig) return { kind: 'skip', id, folder, size: msg.bytes, reason: `${msg.bytes} bytes is over the ${MAX_FILE_MESSAGE_BYTES}-byte limit for one message` };
    // The blank line before the next "From " belongs to the mbox, not the message.
    let content = msg.parts.length === 1 ? msg.parts[0]! : Buffer.concat(msg.parts);
    if (content.subarray(-2).toString('latin1') === '\r\n' && content.subarray(-4, -2).toString('latin1') === '\r\n') content = content.subarray(0, -2);
    else if (content.subarray(-2).toString('latin1') === '\n\n' || content.subarray(-3).toString('latin1') === '\r\n\n') content = content.subarray(0, -1);
    if (!content.length || !startsWithHeader(content)) {
      return { kind: 'skip', id, folder, size: content.length, reason: `no header after the "From " line ${JSON.stringify(msg.fromLine.slice(0, 80))} (a broken separator or a body line that was not escaped)` };
    }
    const mozilla = mozillaFlags(content);
    if (mozilla?.expunged) return { kind: 'skip', id, folder, size: content.length, reason: 'deleted in Thunderbird (X-Mozilla-Status expunged) but not yet compacted away' };
    const parsed = FROM_LINE.exec(msg.fromLine);
    const internalDate = (parsed && fromLineDate(parsed[2]!)) ?? dateHeader(content);
    return { kind: 'message', id, folder, content, flags: mozilla?.flags ?? [], internalDate };
  };

  // Returns the message a separator line ends, if any.
  const takeLine = (line: Buffer, lineOffset: number): Pending | undefined => {
    if (first) {
      first = false;
      if (line.subarray(0, 5).toString('latin1') !== 'From ') throw unreadable(file, 'not an mbox file (it does not start with a "From " line)');
    }
    // With Content-Length (mboxcl, mboxcl2), nothing inside a body is a separator.
    const inBody = current?.bodyEnd !== undefined && lineOffset < current.bodyEnd;
    const isSeparator = previousBlank && !inBody && line.subarray(0, 5).toString('latin1') === 'From ';
    const blank = line.length === 1 || (line.length === 2 && line[0] === 0x0d);
    previousBlank = blank;
    if (isSeparator) {
      const ended = current;
      current = { offset: lineOffset, fromLine: line.toString('latin1').replace(/\r?\n$/, ''), parts: [], bytes: 0, tooBig: false, ...(withLengths && { header: '' }) };
      return ended;
    }
    if (current?.header !== undefined) {
      if (blank) {
        const length = CONTENT_LENGTH.exec(current.header);
        if (length) current.bodyEnd = lineOffset + line.length + Number(length[1]);
        current.header = undefined;
      } else if (current.header.length < 256 * 1024) current.header += line.toString('latin1');
    }
    const kept = unescapeLine(line, flavour);
    current!.bytes += kept.length;
    if (current!.bytes > MAX_FILE_MESSAGE_BYTES) {
      current!.tooBig = true;
      current!.parts = [];
    } else {
      // Views into the read chunks, not copies: a message inside one chunk is never copied, one
      // spanning chunks is copied once when it ends (copying line by line left the collector far behind).
      const parts = current!.parts;
      const last = parts[parts.length - 1];
      // Consecutive lines of one chunk stay one view.
      if (last && last.buffer === kept.buffer && last.byteOffset + last.length === kept.byteOffset) parts[parts.length - 1] = Buffer.from(kept.buffer, last.byteOffset, last.length + kept.length);
      else parts.push(kept);
    }
    return undefined;
  };

  const stream = createReadStream(file, { highWaterMark: 1024 * 1024 });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let start = 0;
      if (carry.length) {
        // Only the line that spans two chunks is joined; the chunk itself is not copied.
        const nl = chunk.indexOf(0x0a);
        if (nl === -1) {
          carry = Buffer.concat([carry, chunk]);
          offset += chunk.length;
          continue;
        }
        const ended = takeLine(Buffer.concat([carry, chunk.subarray(0, nl + 1)]), offset - carry.length);
        start = nl + 1;
        carry = Buffer.alloc(0);
        if (ended) yield finish(ended);
      }
      for (;;) {
        const nl = chunk.indexOf(0x0a, start);
        if (nl === -1) break;
        const ended = takeLine(chunk.subarray(start, nl + 1), offset + start);
        start = nl + 1;
        if (ended) yield finish(ended);
      }
      carry = chunk.subarray(start);
      offset += chunk.length;
    }
    if (carry.length) {
      const ended = takeLine(carry, offset - carry.length);
      if (ended) yield finish(ended);
    }
  } catch (err) {
    if ((err as { code?: string }).code === 'FILE_UNREADABLE') throw err;
    throw unreadable(file, (err as Error).message, err);
  }
  if (first) throw unreadable(file, 'the file is empty');
  if (current) yield finish(current);
}
