// RFC 8945 TSIG: signing a request and verifying the signed reply, after the reference
// implementation in dnspython (dns/tsig.py) and shared/reference/tsig-update-prototype.js.
// dns-packet has no TSIG codec; the RR is assembled and parsed here.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { normalizeName } from './names.ts';
import { CLASS, encodeName, readName, u16, u32, type WireMessage, type WireRecord } from './wire.ts';

export const TSIG_ALGORITHMS = { 'hmac-sha256': 'sha256', 'hmac-sha384': 'sha384', 'hmac-sha512': 'sha512' } as const;
export type TsigAlgorithm = keyof typeof TSIG_ALGORITHMS;

export interface TsigKey {
  /** Key name as configured on the server, e.g. `update-key.` */
  name: string;
  algorithm: TsigAlgorithm;
  secret: Buffer;
}

/** RFC 8945 §5.2 / RFC 2845 error codes carried in the TSIG RR. */
export const TSIG_ERRORS: Record<number, string> = { 16: 'BADSIG', 17: 'BADKEY', 18: 'BADTIME', 19: 'BADMODE', 20: 'BADNAME', 21: 'BADALG', 22: 'BADTRUNC' };

export const DEFAULT_FUDGE = 300;
const TSIG_TYPE = 250;

export interface TsigRecord {
  algorithm: string;
  timeSigned: number;
  fudge: number;
  mac: Buffer;
  originalId: number;
  error: number;
  other: Buffer;
}

function time48(seconds: number): Buffer {
  const out = Buffer.alloc(6);
  out.writeUInt16BE(Math.floor(seconds / 2 ** 32));
  out.writeUInt32BE(seconds % 2 ** 32, 2);
  return out;
}

/** The "TSIG variables" (RFC 8945 §4.3.3) that follow the message in the MAC input. */
function variables(key: TsigKey, timeSigned: number, fudge: number, error: number, other: Buffer): Buffer {
  return Buffer.concat([encodeName(key.name), u16(CLASS.ANY), u32(0), encodeName(key.algorithm), time48(timeSigned), u16(fudge), u16(error), u16(other.length), other]);
}

function hmac(key: TsigKey): ReturnType<typeof createHmac> {
  return createHmac(TSIG_ALGORITHMS[key.algorithm], key.secret);
}

export interface SignedMessage { wire: Buffer; mac: Buffer; timeSigned: number }

/** Appends a TSIG RR to a complete message (ARCOUNT incremented), signed at `now` (seconds). */
export function signMessage(message: Buffer, key: TsigKey, now = Math.floor(Date.now() / 1000), fudge = DEFAULT_FUDGE): SignedMessage {
  const mac = hmac(key).update(message).update(variables(key, now, fudge, 0, Buffer.alloc(0))).digest();
  const rdata = Buffer.concat([encodeName(key.algorithm), time48(now), u16(fudge), u16(mac.length), mac, message.subarray(0, 2), u16(0), u16(0)]);
  const record = Buffer.concat([encodeName(key.name), u16(TSIG_TYPE), u16(CLASS.ANY), u32(0), u16(rdata.length), rdata]);
  const wire = Buffer.concat([message, record]);
  wire.writeUInt16BE(message.readUInt16BE(10) + 1, 10);
  return { wire, mac, timeSigned: now };
}

/** The TSIG RDATA fields; throws on a record too short for them. */
export function parseTsig(record: WireRecord): TsigRecord {
  const data = record.data;
  if (!Buffer.isBuffer(data)) throw new Error('TSIG record without RDATA');
  const algorithm = readName(data, 0);
  let at = algorithm.next;
  const need = (bytes: number) => { if (at + bytes > data.length) throw new Error('TSIG RDATA is cut short'); };
  need(10);
  const timeSigned = data.readUInt16BE(at) * 2 ** 32 + data.readUInt32BE(at + 2);
  const fudge = data.readUInt16BE(at + 6);
  const macSize = data.readUInt16BE(at + 8);
  at += 10;
  need(macSize + 6);
  const mac = data.subarray(at, at + macSize);
  at += macSize;
  const originalId = data.readUInt16BE(at);
  const error = data.readUInt16BE(at + 2);
  const otherLength = data.readUInt16BE(at + 4);
  at += 6;
  need(otherLength);
  return { algorithm: normalizeName(algorithm.name), timeSigned, fudge, mac: Buffer.from(mac), originalId, error, other: Buffer.from(data.subarray(at, at + otherLength)) };
}

export type TsigVerdict =
  | { status: 'verified'; tsig: TsigRecord }
  /** The server answered with a TSIG error and, as RFC 8945 §5.3.2 allows, no MAC (BADSIG, BADKEY). */
  | { status: 'error'; tsig: TsigRecord; error: string; signed: boolean }
  | { status: 'invalid'; reason: string };

/**
 * Checks the TSIG of a reply to a signed request: last record, our key and algorithm, a MAC
 * over (request MAC, reply with its original id and without the TSIG RR, TSIG variables), and
 * a time within the fudge. `raw` must be the reply exactly as received.
 */
export function verifyReply(raw: Buffer, message: WireMessage, key: TsigKey, requestMac: Buffer, now = Math.floor(Date.now() / 1000)): TsigVerdict {
  const records = message.additionals;
  const last = records[records.length - 1];
  const tsigCount = records.filter((record) => record.typeCode === TSIG_TYPE).length;
  if (tsigCount === 0 || last === undefined) return { status: 'invalid', reason: 'the reply is not signed (no TSIG record)' };
  if (tsigCount > 1 || last.typeCode !== TSIG_TYPE) return { status: 'invalid', reason: 'the TSIG record is not the single last record of the reply' };
  let tsig: TsigRecord;
  try {
    tsig = parseTsig(last);
  } catch (err) {
    return { status: 'invalid', reason: `unreadable TSIG record (${(err as Error).message})` };
  }
  if (normalizeName(last.name) !== normalizeName(key.name)) return { status: 'invalid', reason: `signed with key ${last.name}, not ${key.name}` };
  if (tsig.algorithm !== key.algorithm) return { status: 'invalid', reason: `signed with ${tsig.algorithm}, not ${key.algorithm}` };
  const errorName = tsig.error === 0 ? null : TSIG_ERRORS[tsig.error] ?? `TSIG error ${tsig.error}`;
  if (tsig.mac.length === 0) {
    if (errorName) return { status: 'error', tsig, error: errorName, signed: false };
    return { status: 'invalid', reason: 'the TSIG record carries no MAC' };
  }
  const body = Buffer.from(raw.subarray(0, last.offset));
  body.writeUInt16BE(tsig.originalId, 0);
  body.writeUInt16BE(records.length - 1, 10);
  const expected = hmac(key)
    .update(u16(requestMac.length)).update(requestMac)
    .update(body)
    .update(variables(key, tsig.timeSigned, tsig.fudge, tsig.error, tsig.other))
    .digest();
  if (tsig.mac.length !== expected.length || !timingSafeEqual(tsig.mac, expected)) return { status: 'invalid', reason: 'the MAC of the reply does not match (wrong key, or the reply was altered)' };
  if (errorName) return { status: 'error', tsig, error: errorName, signed: true };
  if (Math.abs(now - tsig.timeSigned) > tsig.fudge) return { status: 'invalid', reason: `the reply was signed at ${tsig.timeSigned}, ${Math.abs(now - tsig.timeSigned)} s away from our clock (fudge ${tsig.fudge} s)` };
  return { status: 'verified', tsig };
}

/** Server time a BADTIME reply carries in its "other data" (RFC 8945 §5.2.3). */
export function serverTime(tsig: TsigRecord): number | null {
  return tsig.other.length === 6 ? tsig.other.readUInt16BE(0) * 2 ** 32 + tsig.other.readUInt32BE(2) : null;
}
