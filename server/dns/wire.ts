// The untrusted side of the wire. dns-packet's `decode` trusts the header counts and each
// decoder's own idea of where a record ends, and it throws plain RangeErrors (or loops through
// junk) on hostile input; its encoder wraps TXT strings over 255 bytes, has no class NONE and
// refuses empty RDATA for typed records. This module walks every message itself (bounds,
// compression pointers, counts, RDLENGTH) and only hands dns-packet RDATA it has already
// bounded; every problem becomes a WireError that names the offset and what is wrong.
import { createRequire } from 'node:module';
import dnsPacket from 'dns-packet';
import { normalizeName } from './names.ts';

export class WireError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WireError';
  }
}

/** RFC 1035 §3.2.4 plus RFC 2136's NONE: the classes an UPDATE exchange uses. */
export const CLASS = { IN: 1, CH: 3, HS: 4, NONE: 254, ANY: 255 } as const;
export type ClassName = keyof typeof CLASS;
const CLASS_NAMES = new Map<number, string>(Object.entries(CLASS).map(([name, code]) => [code, name]));

export const OPCODE_UPDATE = 5;
const OPCODES = ['QUERY', 'IQUERY', 'STATUS', 'OPCODE_3', 'NOTIFY', 'UPDATE'];
const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH', 'NOTZONE'];

/** Longest name on the wire (RFC 1035 §2.3.4), counting length octets and the root. */
const MAX_NAME_OCTETS = 255;
/** More jumps than labels in the longest possible name can only be a loop or an attack. */
const MAX_POINTER_JUMPS = 127;

export interface SoaData { mname: string; rname: string; serial: number; refresh: number; retry: number; expire: number; minimum: number }
export interface MxData { preference: number; exchange: string }
export interface SrvData { priority: number; weight: number; port: number; target: string }
export interface CaaData { flags: number; tag: string; value: string }

/** A record's RDATA: typed where cutover reads it, raw bytes otherwise, null when RDLENGTH is 0. */
export type RData = string | Buffer | Buffer[] | SoaData | MxData | SrvData | CaaData | null;

export interface WireRecord {
  name: string;
  type: string;
  typeCode: number;
  class: string;
  ttl: number;
  data: RData;
  /** Offset of the owner name: what TSIG verification needs to cut the message before the TSIG RR. */
  offset: number;
  rdlength: number;
}

export interface WireQuestion { name: string; type: string; class: string }

export interface Edns { udpPayloadSize: number; version: number; dnssecOk: boolean }

export interface WireMessage {
  id: number;
  qr: boolean;
  opcode: string;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  /** Text rcode; an EDNS extended rcode (e.g. BADVERS) is folded in as RCODE_<n>. */
  rcode: string;
  questions: WireQuestion[];
  answers: WireRecord[];
  authorities: WireRecord[];
  additionals: WireRecord[];
  edns: Edns | null;
  size: number;
}

/** Header id, QR and question only: enough to tell a reply to our query from a stray datagram. */
export interface WireHead { id: number; qr: boolean; question: WireQuestion | null }

/** dns-packet's per-type codecs and name encoder; its type definitions leave them out. */
interface PacketCodecs {
  name: { encode(name: string): Buffer };
  record(type: string): { encode(data: unknown): Buffer; decode(buf: Buffer, offset: number): unknown };
}
const codecs = dnsPacket as unknown as PacketCodecs;

// dns-packet's type table (names <-> numbers) is a separate CommonJS module without typings.
const packetTypes = createRequire(import.meta.url)('dns-packet/types.js') as { toString(code: number): string; toType(name: string): number };

/** Mnemonic for a type number, or RFC 3597's TYPEnnn for one dns-packet does not know. */
export function typeName(code: number): string {
  const name = packetTypes.toString(code);
  return name.startsWith('UNKNOWN_') ? `TYPE${code}` : name;
}

export function typeCode(type: string): number {
  const upper = type.toUpperCase();
  const generic = /^TYPE(\d+)$/.exec(upper);
  if (generic) return Number(generic[1]);
  const code = packetTypes.toType(upper);
  if (!code) throw new WireError(`unknown record type ${type}`);
  return code;
}

function className(code: number): string {
  return CLASS_NAMES.get(code) ?? `CLASS${code}`;
}

/**
 * One label as text: UTF-8 like dns-packet (so names compare with the ones we send), with the
 * two characters that would change the label structure escaped (RFC 1035 §5.1).
 */
function labelText(bytes: Buffer): string {
  return bytes.toString('utf8').replace(/[.\\]/g, (c) => `\\${c}`);
}

/**
 * Reads a possibly compressed name. Loops are caught by remembering every pointer target (a
 * forward pointer alone is odd but harmless, so it is tolerated); every byte read is bounded.
 */
export function readName(buf: Buffer, start: number, end = buf.length): { name: string; next: number } {
  const labels: string[] = [];
  const targets = new Set<number>();
  let offset = start;
  let next = -1;
  let octets = 1;
  for (;;) {
    if (offset >= end) throw new WireError(`name at offset ${start} runs past the end of the ${end === buf.length ? 'message' : 'record'}`);
    const len = buf[offset]!;
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      if (offset + 1 >= end) throw new WireError(`compression pointer at offset ${offset} is cut off`);
      const target = ((len & 0x3f) << 8) | buf[offset + 1]!;
      if (next < 0) next = offset + 2;
      if (targets.has(target) || target === offset) throw new WireError(`compression pointer loop in the name at offset ${start} (offset ${offset} points back to ${target})`);
      if (targets.size >= MAX_POINTER_JUMPS) throw new WireError(`name at offset ${start} follows more than ${MAX_POINTER_JUMPS} compression pointers`);
      if (target >= buf.length) throw new WireError(`compression pointer at offset ${offset} points outside the message (${target})`);
      targets.add(target);
      offset = target;
      // A pointer may leave the record's RDATA for earlier parts of the message (RFC 1035 §4.1.4).
      end = buf.length;
      continue;
    }
    if (kind !== 0) throw new WireError(`unsupported label type 0x${len.toString(16)} at offset ${offset}`);
    if (len === 0) {
      if (next < 0) next = offset + 1;
      break;
    }
    if (offset + 1 + len > end) throw new WireError(`label at offset ${offset} runs past the end of the ${end === buf.length ? 'message' : 'record'}`);
    octets += len + 1;
    if (octets > MAX_NAME_OCTETS) throw new WireError(`name at offset ${start} is longer than ${MAX_NAME_OCTETS} octets`);
    labels.push(labelText(buf.subarray(offset + 1, offset + 1 + len)));
    offset += 1 + len;
  }
  return { name: labels.length === 0 ? '.' : labels.join('.'), next };
}

/** Cursor over a message; every read is bounds-checked so a short buffer is a WireError, never a RangeError. */
class Reader {
  constructor(readonly buf: Buffer, public offset = 0) {}
  need(bytes: number, what: string): void {
    if (this.offset + bytes > this.buf.length) throw new WireError(`message ends inside ${what} at offset ${this.offset} (${this.buf.length} bytes in all)`);
  }
  u16(what: string): number {
    this.need(2, what);
    const value = this.buf.readUInt16BE(this.offset);
    this.offset += 2;
    return value;
  }
  u32(what: string): number {
    this.need(4, what);
    const value = this.buf.readUInt32BE(this.offset);
    this.offset += 4;
    return value;
  }
  name(): string {
    const { name, next } = readName(this.buf, this.offset);
    this.offset = next;
    return name;
  }
}

/** Decoders here take the record's bytes only (pointers resolve against the whole message). */
type RdataDecoder = (buf: Buffer, start: number, end: number) => RData;

function nameRdata(buf: Buffer, start: number, end: number): string {
  const { name, next } = readName(buf, start, end);
  if (next !== end) throw new WireError(`RDATA at offset ${start} has ${end - next} byte(s) after its name`);
  return name;
}

const RDATA_DECODERS: Record<string, RdataDecoder> = {
  NS: nameRdata,
  CNAME: nameRdata,
  PTR: nameRdata,
  DNAME: nameRdata,
  MX(buf, start, end) {
    if (end - start < 3) throw new WireError(`MX RDATA at offset ${start} is too short`);
    return { preference: buf.readUInt16BE(start), exchange: nameRdata(buf, start + 2, end) };
  },
  SOA(buf, start, end) {
    const mname = readName(buf, start, end);
    const rname = readName(buf, mname.next, end);
    if (end - rname.next !== 20) throw new WireError(`SOA RDATA at offset ${start} has ${end - rname.next} bytes of counters instead of 20`);
    const at = rname.next;
    return {
      mname: mname.name, rname: rname.name, serial: buf.readUInt32BE(at), refresh: buf.readUInt32BE(at + 4),
      retry: buf.readUInt32BE(at + 8), expire: buf.readUInt32BE(at + 12), minimum: buf.readUInt32BE(at + 16),
    };
  },
  SRV(buf, start, end) {
    if (end - start < 7) throw new WireError(`SRV RDATA at offset ${start} is too short`);
    return { priority: buf.readUInt16BE(start), weight: buf.readUInt16BE(start + 2), port: buf.readUInt16BE(start + 4), target: nameRdata(buf, start + 6, end) };
  },
  TXT(buf, start, end) {
    const strings: Buffer[] = [];
    for (let at = start; at < end;) {
      const len = buf[at]!;
      if (at + 1 + len > end) throw new WireError(`TXT character-string at offset ${at} runs past its record`);
      strings.push(Buffer.from(buf.subarray(at + 1, at + 1 + len)));
      at += 1 + len;
    }
    return strings;
  },
  CAA(buf, start, end) {
    const tagLength = buf[start + 1] ?? 0;
    if (end - start < 2 + tagLength) throw new WireError(`CAA RDATA at offset ${start} is too short`);
    return { flags: buf[start]!, tag: buf.toString('latin1', start + 2, start + 2 + tagLength), value: buf.toString('utf8', start + 2 + tagLength, end) };
  },
};

// Fixed-size address records go through dns-packet's own decoders once the size is known good.
const ADDRESS_BYTES: Record<string, number> = { A: 4, AAAA: 16 };

function decodeRdata(type: string, buf: Buffer, start: number, rdlength: number): RData {
  const end = start + rdlength;
  if (rdlength === 0) return type === 'TXT' ? [] : null;
  const size = ADDRESS_BYTES[type];
  if (size !== undefined) {
    if (rdlength !== size) throw new WireError(`${type} RDATA at offset ${start} is ${rdlength} bytes, not ${size}`);
    return codecs.record(type).decode(buf, start - 2) as string;
  }
  const decoder = RDATA_DECODERS[type];
  return decoder ? decoder(buf, start, end) : Buffer.from(buf.subarray(start, end));
}

function readQuestion(reader: Reader): WireQuestion {
  const name = reader.name();
  const type = typeName(reader.u16('a question type'));
  return { name, type, class: className(reader.u16('a question class')) };
}

function readRecord(reader: Reader, section: string): WireRecord {
  const offset = reader.offset;
  const name = reader.name();
  const code = reader.u16(`the type of a record in the ${section} section`);
  const klass = reader.u16('a record class');
  const ttl = reader.u32('a record TTL');
  const rdlength = reader.u16('an RDLENGTH');
  reader.need(rdlength, `the RDATA of a ${typeName(code)} record (RDLENGTH ${rdlength})`);
  const type = typeName(code);
  const start = reader.offset;
  reader.offset += rdlength;
  if (type === 'OPT') return { name, type, typeCode: code, class: String(klass), ttl, data: Buffer.from(reader.buf.subarray(start, start + rdlength)), offset, rdlength };
  return { name, type, typeCode: code, class: className(klass), ttl, data: decodeRdata(type, reader.buf, start, rdlength), offset, rdlength };
}

function section(reader: Reader, count: number, label: string): WireRecord[] {
  const records: WireRecord[] = [];
  for (let i = 0; i < count; i++) {
    try {
      records.push(readRecord(reader, label));
    } catch (err) {
      if (err instanceof WireError) throw new WireError(`${label} record ${i + 1} of ${count}: ${err.message}`);
      throw err;
    }
  }
  return records;
}

/** Header, id and first question, for matching a reply before trusting the rest of it. */
export function decodeHead(buf: Buffer): WireHead {
  if (buf.length < 12) throw new WireError(`${buf.length}-byte message is shorter than a DNS header (12 bytes)`);
  const reader = new Reader(buf, 12);
  const qdcount = buf.readUInt16BE(4);
  return { id: buf.readUInt16BE(0), qr: (buf[2]! & 0x80) !== 0, question: qdcount > 0 ? readQuestion(reader) : null };
}

/** Decodes a whole message, or throws a WireError saying exactly what is wrong and where. */
export function decodeMessage(buf: Buffer): WireMessage {
  if (buf.length < 12) throw new WireError(`${buf.length}-byte message is shorter than a DNS header (12 bytes)`);
  const flags = buf.readUInt16BE(2);
  const counts = [4, 6, 8, 10].map((at) => buf.readUInt16BE(at)) as [number, number, number, number];
  const reader = new Reader(buf, 12);
  const questions: WireQuestion[] = [];
  for (let i = 0; i < counts[0]; i++) questions.push(readQuestion(reader));
  const answers = section(reader, counts[1], 'answer');
  const authorities = section(reader, counts[2], 'authority');
  const additionals = section(reader, counts[3], 'additional');
  const opt = additionals.find((record) => record.type === 'OPT');
  const extended = opt ? (opt.ttl >>> 24) & 0xff : 0;
  const rcodeValue = (extended << 4) | (flags & 0xf);
  return {
    id: buf.readUInt16BE(0),
    qr: (flags & 0x8000) !== 0,
    opcode: OPCODES[(flags >> 11) & 0xf] ?? `OPCODE_${(flags >> 11) & 0xf}`,
    aa: (flags & 0x0400) !== 0,
    tc: (flags & 0x0200) !== 0,
    rd: (flags & 0x0100) !== 0,
    ra: (flags & 0x0080) !== 0,
    rcode: RCODES[rcodeValue] ?? `RCODE_${rcodeValue}`,
    questions, answers, authorities, additionals,
    edns: opt ? { udpPayloadSize: Number(opt.class), version: (opt.ttl >>> 16) & 0xff, dnssecOk: (opt.ttl & 0x8000) !== 0 } : null,
    size: buf.length,
  };
}

// ---- encoding ---------------------------------------------------------------------------

const MAX_CHARACTER_STRING = 255;

export function u16(value: number): Buffer {
  const out = Buffer.alloc(2);
  out.writeUInt16BE(value);
  return out;
}

export function u32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value >>> 0);
  return out;
}

/** dns-packet encodes over-long or empty labels without complaint and produces a corrupt message. */
export function assertEncodableName(name: string): void {
  const normal = normalizeName(name);
  if (normal === '.') return;
  const labels = normal.split('.');
  const valid = Buffer.byteLength(normal) <= 253 && labels.every((label) => label.length > 0 && Buffer.byteLength(label) <= 63);
  if (!valid) throw new WireError(`"${name}" is not a valid DNS name`);
}

/** Uncompressed, lower-case wire form: the canonical form TSIG signs (RFC 8945 §4.3.3). */
export function encodeName(name: string): Buffer {
  assertEncodableName(name);
  return codecs.name.encode(normalizeName(name).toLowerCase());
}

/**
 * A TXT value as character-strings of at most 255 bytes: dns-packet writes the length of a
 * longer string into one byte, which wraps (300 becomes 44) and corrupts the record silently.
 */
export function splitTxt(strings: Array<string | Buffer>): Buffer[] {
  return strings.flatMap((part) => {
    const bytes = typeof part === 'string' ? Buffer.from(part, 'utf8') : part;
    if (bytes.length <= MAX_CHARACTER_STRING) return [bytes];
    const chunks: Buffer[] = [];
    for (let at = 0; at < bytes.length; at += MAX_CHARACTER_STRING) chunks.push(bytes.subarray(at, at + MAX_CHARACTER_STRING));
    return chunks;
  });
}

/** RDLENGTH plus RDATA; `undefined` gives RDLENGTH 0, which dns-packet cannot write for typed records. */
export function encodeRdata(type: string, data: unknown): Buffer {
  if (data === undefined) return u16(0);
  const upper = type.toUpperCase();
  if (upper === 'TXT') return codecs.record('TXT').encode(splitTxt(data as Array<string | Buffer>));
  for (const field of ['exchange', 'target'] as const) {
    const value = (data as Record<string, unknown>)[field];
    if (typeof value === 'string') assertEncodableName(value);
  }
  if (['NS', 'CNAME', 'PTR', 'DNAME'].includes(upper)) assertEncodableName(String(data));
  if (Buffer.isBuffer(data) && !ADDRESS_BYTES[upper]) return Buffer.concat([u16(data.length), data]);
  return codecs.record(upper).encode(data as never);
}

export interface RecordToEncode { name: string; type: string; class: ClassName; ttl: number; data?: unknown }

/** One RR in any section, with any class (NONE and ANY included) and possibly empty RDATA. */
export function encodeRecord(record: RecordToEncode): Buffer {
  return Buffer.concat([encodeName(record.name), u16(typeCode(record.type)), u16(CLASS[record.class]), u32(record.ttl), encodeRdata(record.type, record.data)]);
}

export function sameName(a: string, b: string): boolean {
  return normalizeName(a) === normalizeName(b);
}
