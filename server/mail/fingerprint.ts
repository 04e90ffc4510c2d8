import { createHash } from 'node:crypto';

const HEADER_END = Buffer.from('\r\n\r\n');

export function headerBytes(message: Buffer): Buffer {
  const end = message.indexOf(HEADER_END);
  return end === -1 ? message : message.subarray(0, end + HEADER_END.length);
}

// Identity of a message independent of UIDs: what lets a re-run recognise mail it already
// appended when the ledger cannot (crash between APPEND and the ledger write, lost ledger,
// UIDVALIDITY change). Header bytes carry Message-ID, Date and Received; size and arrival
// date separate same-header copies with other bodies.
export function fingerprint(header: Buffer, size: number, internalDate: Date | string | undefined): string {
  const date = internalDate ? new Date(internalDate).toISOString() : '-';
  return `${size}:${date}:${createHash('sha256').update(header).digest('base64url').slice(0, 32)}`;
}

// Cyrus (munge8bit, its default) stores each 8-bit header byte as 'X'; other servers keep them. A
// run of 8-bit bytes and X's becomes one marker on both sides, so "é" (two bytes), "XX" and "X"
// compare equal and nothing else does.
const EIGHT_BIT_OR_X = /[\x80-\xffX]+/g;

/** The header as any server we know keeps it: 8-bit bytes as Cyrus rewrites them, bare LF as CRLF. */
export function normalisedHeader(header: Buffer): string {
  return header.toString('latin1').replace(EIGHT_BIT_OR_X, '\u0000').replace(/\r?\n/g, '\r\n');
}

/**
 * What identifies a copy on a destination that may have changed it: the header normalised as
 * above and the body's length. The arrival date is left out (Dovecot replaces dates years ahead,
 * GNU imap4d ignores APPEND's date) and so are the flags (imap4d ignores APPEND's flags).
 */
export function matchKey(header: Buffer, size: number): string {
  const hash = createHash('sha256').update(normalisedHeader(header), 'latin1').digest('base64url').slice(0, 32);
  return `${size - header.length}:${hash}`;
}

/**
 * The destination's messages the ledger does not account for, ready to be claimed once each by
 * the source messages they are copies of. Among copies with the same key (exact duplicates, or
 * one header with bodies of one length), the one with the same arrival date is taken first.
 */
export class DestMatcher {
  private readonly byKey = new Map<string, Array<{ uid: number; date: string }>>();

  get size(): number {
    let n = 0;
    for (const list of this.byKey.values()) n += list.length;
    return n;
  }

  add(header: Buffer, size: number, internalDate: Date | string | undefined, uid: number): void {
    const key = matchKey(header, size);
    const list = this.byKey.get(key) ?? [];
    list.push({ uid, date: dateKey(internalDate) });
    this.byKey.set(key, list);
  }

  /** The destination UID of a copy of this message, claimed so no other message takes it. */
  take(header: Buffer, size: number, internalDate: Date | string | undefined): number | undefined {
    // A first copy meets an empty destination: no key to make (normalising and hashing every header cost a tenth of its CPU).
    if (this.byKey.size === 0) return undefined;
    const list = this.byKey.get(matchKey(header, size));
    if (!list?.length) return undefined;
    const date = dateKey(internalDate);
    const same = list.findIndex((c) => c.date === date);
    return list.splice(same === -1 ? 0 : same, 1)[0]!.uid;
  }
}

function dateKey(value: Date | string | undefined): string {
  return value ? new Date(value).toISOString() : '-';
}
