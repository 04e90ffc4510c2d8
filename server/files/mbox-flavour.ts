// Which of the four mbox flavours a file is (mboxo, mboxrd, mboxcl, mboxcl2), from its first
// messages. The flavours differ only in how a body line starting with "From " is kept apart from
// a separator: mboxo quotes it as ">From " (mboxrd also adds a ">" to ">From ", ">>From "…),
// mboxcl quotes like mboxo and gives each body's length in Content-Length, mboxcl2 gives the
// length and quotes nothing. Reading a file in the wrong flavour splits a message at an unquoted
// "From " line (mboxcl2 read as mboxo) or takes a ">" off lines the writer never quoted.
import { open } from 'node:fs/promises';

export type MboxFlavour = 'mboxo' | 'mboxrd' | 'mboxcl' | 'mboxcl2';

export interface FlavourGuess { flavour: MboxFlavour; why: string }

/** How much of the file is looked at: enough for many messages, bounded whatever the file's size. */
const SCAN_BYTES = 16 * 1024 * 1024;
const CONTENT_LENGTH = /^content-length:[ \t]*(\d{1,12})[ \t]*\r?$/im;

function headerEnd(buf: Buffer, from: number): { end: number; bodyStart: number } | undefined {
  const crlf = buf.indexOf('\r\n\r\n', from);
  const lf = buf.indexOf('\n\n', from);
  if (lf === -1 && crlf === -1) return undefined;
  if (crlf !== -1 && (lf === -1 || crlf < lf)) return { end: crlf, bodyStart: crlf + 4 };
  return { end: lf, bodyStart: lf + 2 };
}

/** Whether `at` is where a message's separator line starts (after optional blank lines), or the end. */
function separatorAt(buf: Buffer, at: number, whole: boolean): boolean | undefined {
  let i = at;
  while (i < buf.length && (buf[i] === 0x0a || (buf[i] === 0x0d && buf[i + 1] === 0x0a))) i += buf[i] === 0x0d ? 2 : 1;
  if (i >= buf.length) return whole ? true : undefined; // the end of the file, or only of what was read
  return buf.subarray(i, i + 5).toString('latin1') === 'From ';
}

/** Reads the first messages and says which flavour they are written in, and why. */
export async function detectMboxFlavour(file: string): Promise<FlavourGuess> {
  const handle = await open(file, 'r');
  let buf: Buffer;
  let size: number;
  try {
    size = (await handle.stat()).size;
    buf = Buffer.alloc(Math.min(SCAN_BYTES, size));
    await handle.read(buf, 0, buf.length, 0);
  } finally {
    await handle.close();
  }
  const whole = size <= SCAN_BYTES;
  // Content-Length: every message has one, and each one ends exactly where the next separator starts.
  let at = 0;
  let counted = 0;
  let lengthsHold = buf.subarray(0, 5).toString('latin1') === 'From ';
  let unquotedInBody = false;
  let quotedInBody = false;
  while (lengthsHold && at < buf.length) {
    const lineEnd = buf.indexOf(0x0a, at);
    if (lineEnd === -1) break;
    const head = headerEnd(buf, lineEnd + 1);
    if (!head) break;
    const length = CONTENT_LENGTH.exec(buf.subarray(lineEnd + 1, head.end + 1).toString('latin1'));
    if (!length) { lengthsHold = false; break; }
    const bodyEnd = head.bodyStart + Number(length[1]);
    const next = separatorAt(buf, bodyEnd, whole);
    if (next === undefined) break; // cut by the scan window: what was seen holds
    if (!next) { lengthsHold = false; break; }
    const body = buf.subarray(head.bodyStart, Math.min(bodyEnd, buf.length)).toString('latin1');
    if (/(?:^|\n)From /.test(body)) unquotedInBody = true;
    if (/(?:^|\n)>From /.test(body)) quotedInBody = true;
    counted++;
    at = bodyEnd;
    while (at < buf.length && (buf[at] === 0x0a || buf[at] === 0x0d)) at++;
  }
  if (lengthsHold && counted > 0) {
    if (unquotedInBody) return { flavour: 'mboxcl2', why: `Content-Length on every message (${counted} read), and bodies with unquoted "From " lines` };
    return { flavour: quotedInBody ? 'mboxcl' : 'mboxcl2', why: `Content-Length on every message (${counted} read)${quotedInBody ? ', bodies with ">From " lines quoted' : ''}` };
  }
  const text = buf.toString('latin1');
  if (/^X-Mozilla-Status:/im.test(text)) return { flavour: 'mboxo', why: 'written by Thunderbird (X-Mozilla-Status), which quotes only "From "' };
  if (/^>>+From /m.test(text)) return { flavour: 'mboxrd', why: '">>From " lines: quoting of quoted lines, as mboxrd writes them' };
  return { flavour: 'mboxrd', why: 'no Content-Length and no ">>From " line: mboxrd and mboxo read the same here' };
}
