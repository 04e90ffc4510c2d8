// RFC 2136 dynamic update: one message, prerequisites first (an optimistic lock on the RRsets the
// plan was made from), then the changes, signed with TSIG and sent to the zone's primary over TCP.
import { randomInt } from 'node:crypto';
import { CutoverError } from '../errors.ts';
import type { DnsChange, DnsPrerequisite } from '../plugins/contract.ts';
import { normalizeName } from './names.ts';
import { parseRdata } from './rdata.ts';
import { exchangeRaw, formatNameServer, type NameServer } from './transport.ts';
import { serverTime, signMessage, verifyReply, type TsigKey } from './tsig.ts';
import { CLASS, encodeName, encodeRecord, OPCODE_UPDATE, u16, type RecordToEncode } from './wire.ts';

export interface UpdateSections { prerequisites: RecordToEncode[]; updates: RecordToEncode[] }

function inZone(name: string, zone: string): boolean {
  const n = normalizeName(name);
  const z = normalizeName(zone);
  return n === z || n.endsWith(`.${z}`);
}

/**
 * The contract's changes in RFC 2136 §2.4/§2.5 encoding:
 *   prerequisite with values → class IN, TTL 0, one RR per value (the whole RRset must match);
 *   prerequisite without values → class NONE, empty RDATA ("RRset does not exist");
 *   add → class IN with TTL; delete one RR → class NONE; delete an RRset → class ANY, empty RDATA.
 */
export function updateSections(zone: string, changes: DnsChange[], prerequisites: DnsPrerequisite[] = []): UpdateSections {
  const check = (name: string) => {
    if (!inZone(name, zone)) throw new CutoverError('INPUT_INVALID', { detail: `${name} is not inside the zone ${zone}` });
  };
  const prereqs = prerequisites.flatMap((p): RecordToEncode[] => {
    check(p.name);
    if (p.data.length === 0) return [{ name: p.name, type: p.type, class: 'NONE', ttl: 0 }];
    return p.data.map((text) => ({ name: p.name, type: p.type, class: 'IN', ttl: 0, data: parseRdata(p.type, text) }));
  });
  const updates = changes.map((change): RecordToEncode => {
    if (change.op === 'deleteRRset') {
      check(change.name);
      return { name: change.name, type: change.type, class: 'ANY', ttl: 0 };
    }
    const { record } = change;
    check(record.name);
    if (change.op === 'delete') return { name: record.name, type: record.type, class: 'NONE', ttl: 0, data: parseRdata(record.type, record.data) };
    return { name: record.name, type: record.type, class: 'IN', ttl: change.record.ttl, data: parseRdata(record.type, record.data) };
  });
  return { prerequisites: prereqs, updates };
}

/** Header + zone section (`<zone> SOA IN`) + prerequisite (AN) + update (NS) sections; TSIG comes later. */
export function buildUpdate(id: number, zone: string, sections: UpdateSections): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(OPCODE_UPDATE << 11, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(sections.prerequisites.length, 6);
  header.writeUInt16BE(sections.updates.length, 8);
  header.writeUInt16BE(0, 10);
  const zoneSection = Buffer.concat([encodeName(zone), u16(6), u16(CLASS.IN)]);
  return Buffer.concat([header, zoneSection, ...sections.prerequisites.map(encodeRecord), ...sections.updates.map(encodeRecord)]);
}

const PREREQUISITE_RCODES: Record<string, string> = {
  NXRRSET: 'an RRset the plan was made from no longer holds the values it had',
  YXRRSET: 'an RRset the plan expected to be absent exists now',
  NXDOMAIN: 'a name the plan expected to exist does not',
  YXDOMAIN: 'a name the plan expected to be unused is in use',
};

const REFUSAL_WORDS: Record<string, string> = {
  REFUSED: 'the server\'s policy does not allow this update for this key',
  NOTZONE: 'a name is outside the zone',
  NOTAUTH: 'the server is not authoritative (primary) for the zone',
  SERVFAIL: 'the server failed to apply it',
  FORMERR: 'the server could not parse the message',
  NOTIMP: 'the server does not implement dynamic updates',
};

export interface UpdateTarget { server: NameServer; zone: string; key: TsigKey; timeoutMs?: number; fudge?: number }

/**
 * Sends one signed UPDATE and checks the reply's signature before believing it. Resolves when
 * the server applied every change; otherwise throws a typed error and nothing was applied
 * (RFC 2136 §3.2: a failed prerequisite or a refusal leaves the zone untouched).
 */
export async function sendUpdate(target: UpdateTarget, sections: UpdateSections): Promise<void> {
  const { server, zone, key } = target;
  const where = { server: formatNameServer(server), zone: normalizeName(zone), key: key.name };
  const message = buildUpdate(randomInt(0, 0x10000), zone, sections);
  const signed = signMessage(message, key, undefined, target.fudge);
  const reply = await exchangeRaw(server, signed.wire, target.timeoutMs);
  const verdict = verifyReply(reply.wire, reply.message, key, signed.mac);
  const rcode = reply.message.rcode;
  if (verdict.status === 'error') {
    const skew = verdict.error === 'BADTIME' ? badTimeDetail(verdict.tsig, signed.timeSigned) : '';
    const detail = {
      BADSIG: 'the server does not accept the signature: the secret differs from the one it has for this key name',
      BADKEY: 'the server does not know this key name or algorithm',
      BADTIME: `the clocks differ by more than the allowed fudge${skew}`,
    }[verdict.error] ?? `rcode ${rcode}`;
    throw new CutoverError('DNS_TSIG_REJECTED', { ...where, error: verdict.error, detail });
  }
  const reason = PREREQUISITE_RCODES[rcode];
  if (reason !== undefined) {
    throw new CutoverError('DNS_PREREQUISITE_FAILED', { ...where, rcode, detail: `${reason}${verdict.status === 'verified' ? '' : '; the reply was not signed'}` }, { retryable: true });
  }
  if (rcode !== 'NOERROR') {
    const unsigned = verdict.status === 'verified' ? '' : '; the reply was not signed';
    throw new CutoverError('DNS_UPDATE_REFUSED', { ...where, rcode, detail: `${REFUSAL_WORDS[rcode] ?? 'unexpected rcode'}${unsigned}` }, { retryable: rcode === 'SERVFAIL' });
  }
  if (verdict.status !== 'verified') throw new CutoverError('DNS_RESPONSE_UNVERIFIED', { ...where, detail: verdict.reason });
}

function badTimeDetail(tsig: { timeSigned: number; other: Buffer; fudge: number }, ours: number): string {
  const theirs = serverTime(tsig as Parameters<typeof serverTime>[0]) ?? tsig.timeSigned;
  return ` (server time ${new Date(theirs * 1000).toISOString()}, ours ${new Date(ours * 1000).toISOString()}, fudge ${tsig.fudge} s)`;
}
