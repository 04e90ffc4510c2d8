import { fqdn } from './names.ts';

/** TTL proposed for records we ask the admin to publish; the migration lowers it separately before cutover. */
export const DEFAULT_TTL = 3600;

/** A TXT character-string holds at most 255 bytes (RFC 1035 §3.3); longer values must be split. */
const MAX_CHARACTER_STRING = 255;

export interface ZoneRecord { owner: string; type: string; rdata: string; ttl?: number }

/** One master-file line; without ttl it is the form used to name a record for removal. */
export function zoneLine(record: ZoneRecord): string {
  const ttl = record.ttl === undefined ? '' : ` ${record.ttl}`;
  return `${fqdn(record.owner)}${ttl} IN ${record.type} ${record.rdata}`;
}

/**
 * TXT RDATA as quoted character-strings of at most 255 bytes each: a single longer string is
 * rejected by servers or, with dns-packet, silently corrupted (the length byte wraps).
 */
export function txtRdata(value: string): string {
  return quoteStrings(splitCharacterStrings(value));
}

/** TXT RDATA exactly as received, so a removal matches the published record string for string. */
export function quoteStrings(strings: string[]): string {
  return strings.map(quote).join(' ');
}

/** The single wording every check uses for its fix, so the admin always reads the same shape. */
export function describeChange(publish: string[], remove: string[]): string {
  const parts = [
    publish.length > 0 ? `publish exactly: ${publish.join('; ')}` : '',
    remove.length > 0 ? `remove: ${remove.join('; ')}` : '',
  ];
  return parts.filter((part) => part !== '').join(' — ');
}

function splitCharacterStrings(value: string): string[] {
  const chunks: string[] = [];
  let current = '';
  // Walk code points, not bytes, so a multi-byte character is never cut in half.
  for (const char of value) {
    if (Buffer.byteLength(current + char) > MAX_CHARACTER_STRING) {
      chunks.push(current);
      current = '';
    }
    current += char;
  }
  chunks.push(current);
  return chunks;
}

function quote(text: string): string {
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}
