// RDATA in presentation form (the zone-file text a DnsRecord carries: `10 mx.example.net.`,
// `"v=spf1 " "~all"`) to and from what the wire layer encodes and decodes. Names are always
// absolute here: a provider API has no $ORIGIN to make them relative to.
import net from 'node:net';
import { CutoverError } from '../errors.ts';
import { fqdn, normalizeName } from './names.ts';
import type { CaaData, MxData, RData, SoaData, SrvData, WireRecord } from './wire.ts';

const NAME_TYPES = new Set(['NS', 'CNAME', 'PTR', 'DNAME']);

function invalid(type: string, text: string, why: string): CutoverError {
  return new CutoverError('INPUT_INVALID', { detail: `${type} record data "${text}" is not valid: ${why}` });
}

/** A character-string in zone-file quoting: `"`, `\` escaped, bytes outside printable ASCII as \DDD. */
export function quoteBytes(bytes: Buffer): string {
  let text = '"';
  for (const byte of bytes) {
    if (byte === 0x22 || byte === 0x5c) text += `\\${String.fromCharCode(byte)}`;
    else if (byte >= 0x20 && byte < 0x7f) text += String.fromCharCode(byte);
    else text += `\\${String(byte).padStart(3, '0')}`;
  }
  return `${text}"`;
}

/** Splits presentation RDATA into tokens; quoted tokens keep their bytes exactly (\X and \DDD decoded). */
export function tokenize(text: string): Array<{ bytes: Buffer; quoted: boolean }> {
  const tokens: Array<{ bytes: Buffer; quoted: boolean }> = [];
  const source = Buffer.from(text, 'utf8');
  let at = 0;
  while (at < source.length) {
    while (at < source.length && (source[at] === 0x20 || source[at] === 0x09)) at++;
    if (at >= source.length) break;
    const quoted = source[at] === 0x22;
    if (quoted) at++;
    const bytes: number[] = [];
    for (;;) {
      if (at >= source.length) {
        if (quoted) throw new CutoverError('INPUT_INVALID', { detail: `unterminated quoted string in "${text}"` });
        break;
      }
      const byte = source[at]!;
      if (quoted ? byte === 0x22 : byte === 0x20 || byte === 0x09) {
        if (quoted) at++;
        break;
      }
      if (byte === 0x5c) {
        const digits = /^\d{3}/.exec(source.toString('latin1', at + 1, at + 4));
        if (digits) {
          const value = Number(digits[0]);
          if (value > 255) throw new CutoverError('INPUT_INVALID', { detail: `escape \\${digits[0]} is not a byte in "${text}"` });
          bytes.push(value);
          at += 4;
          continue;
        }
        if (at + 1 >= source.length) throw new CutoverError('INPUT_INVALID', { detail: `dangling backslash in "${text}"` });
        bytes.push(source[at + 1]!);
        at += 2;
        continue;
      }
      bytes.push(byte);
      at++;
    }
    tokens.push({ bytes: Buffer.from(bytes), quoted });
  }
  return tokens;
}

function uint(type: string, text: string, token: string | undefined, max: number, what: string): number {
  if (token === undefined || !/^\d+$/.test(token) || Number(token) > max) throw invalid(type, text, `${what} must be a number from 0 to ${max}`);
  return Number(token);
}

function hostName(type: string, text: string, token: string | undefined): string {
  if (token === undefined || token === '') throw invalid(type, text, 'a host name is missing');
  return normalizeName(token);
}

/** Presentation RDATA to the value encodeRdata() takes for that type. */
export function parseRdata(type: string, text: string): unknown {
  const upper = type.toUpperCase();
  const generic = /^\s*\\#\s+(\d+)((?:\s+[0-9a-f]+)*)\s*$/i.exec(text);
  if (generic) {
    const length = uint(upper, text, generic[1], 65535, 'the RFC 3597 length');
    const hex = (generic[2] ?? '').replace(/\s+/g, '');
    if (!/^[0-9a-f]*$/i.test(hex) || hex.length !== length * 2) throw invalid(upper, text, 'the RFC 3597 hex data does not match its length');
    return Buffer.from(hex, 'hex');
  }
  const tokens = tokenize(text);
  const words = tokens.map((token) => token.bytes.toString('utf8'));
  switch (upper) {
    case 'A':
    case 'AAAA': {
      const family = upper === 'A' ? 4 : 6;
      if (words.length !== 1 || net.isIP(words[0]!) !== family) throw invalid(upper, text, `expected one IPv${family} address`);
      return words[0];
    }
    case 'MX': {
      if (words.length !== 2) throw invalid(upper, text, 'expected "PREFERENCE HOST"');
      return { preference: uint(upper, text, words[0], 65535, 'the preference'), exchange: hostName(upper, text, words[1]) } satisfies MxData;
    }
    case 'SRV': {
      if (words.length !== 4) throw invalid(upper, text, 'expected "PRIORITY WEIGHT PORT TARGET"');
      return {
        priority: uint(upper, text, words[0], 65535, 'the priority'), weight: uint(upper, text, words[1], 65535, 'the weight'),
        port: uint(upper, text, words[2], 65535, 'the port'), target: hostName(upper, text, words[3]),
      } satisfies SrvData;
    }
    case 'TXT': {
      if (tokens.length === 0) throw invalid(upper, text, 'no character-string');
      return tokens.map((token) => token.bytes);
    }
    case 'CAA': {
      if (words.length !== 3) throw invalid(upper, text, 'expected "FLAGS TAG VALUE"');
      return { flags: uint(upper, text, words[0], 255, 'the flags'), tag: words[1]!, value: words[2]! } satisfies CaaData;
    }
    case 'SOA': {
      if (words.length !== 7) throw invalid(upper, text, 'expected "MNAME RNAME SERIAL REFRESH RETRY EXPIRE MINIMUM"');
      const [serial, refresh, retry, expire, minimum] = words.slice(2).map((word, i) => uint(upper, text, word, 0xffffffff, ['serial', 'refresh', 'retry', 'expire', 'minimum'][i]!));
      return { mname: hostName(upper, text, words[0]), rname: hostName(upper, text, words[1]), serial: serial!, refresh: refresh!, retry: retry!, expire: expire!, minimum: minimum! } satisfies SoaData;
    }
    default:
      if (NAME_TYPES.has(upper)) {
        if (words.length !== 1) throw invalid(upper, text, 'expected one host name');
        return hostName(upper, text, words[0]);
      }
      throw invalid(upper, text, `type ${upper} is only accepted in the generic form \\# LENGTH HEX`);
  }
}

/** Decoded RDATA to presentation form; the inverse of parseRdata for the types it knows. */
export function formatRdata(type: string, data: RData): string {
  if (data === null) return '';
  switch (type) {
    case 'MX': {
      const mx = data as MxData;
      return `${mx.preference} ${fqdn(mx.exchange)}`;
    }
    case 'SRV': {
      const srv = data as SrvData;
      return `${srv.priority} ${srv.weight} ${srv.port} ${fqdn(srv.target)}`;
    }
    case 'TXT':
      return (data as Buffer[]).map(quoteBytes).join(' ');
    case 'CAA': {
      const caa = data as CaaData;
      return `${caa.flags} ${caa.tag} ${quoteBytes(Buffer.from(caa.value, 'utf8'))}`;
    }
    case 'SOA': {
      const soa = data as SoaData;
      return `${fqdn(soa.mname)} ${fqdn(soa.rname)} ${soa.serial} ${soa.refresh} ${soa.retry} ${soa.expire} ${soa.minimum}`;
    }
    case 'A':
    case 'AAAA':
      return String(data);
    default:
      if (NAME_TYPES.has(type)) return fqdn(String(data));
      if (Buffer.isBuffer(data)) return `\\# ${data.length}${data.length ? ` ${data.toString('hex')}` : ''}`;
      return String(data);
  }
}

export function recordText(record: WireRecord): string {
  return formatRdata(record.type, record.data);
}

/**
 * Canonical spelling for comparing two presentation RDATA of the same type: names lower-case,
 * TXT strings kept apart (a prerequisite compares the wire form, where the split matters).
 */
export function canonicalRdata(type: string, text: string): string {
  const upper = type.toUpperCase();
  const parsed = parseRdata(upper, text);
  if (upper === 'TXT') return (parsed as Buffer[]).map(quoteBytes).join(' ');
  const text2 = formatRdata(upper, parsed as RData);
  return Buffer.isBuffer(parsed) || !(NAME_TYPES.has(upper) || ['MX', 'SRV', 'SOA'].includes(upper)) ? text2 : text2.toLowerCase();
}

/** TXT RDATA as the joined text SPF and DMARC evaluate (RFC 7208 §3.3). */
export function txtText(data: RData): string {
  return Array.isArray(data) ? data.map((part) => part.toString('utf8')).join('') : '';
}
