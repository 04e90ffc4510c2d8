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
