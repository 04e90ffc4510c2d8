// The RFC 7208 suite's `zonedata` served over real UDP/TCP on loopback, answering like a
// recursive resolver would (CNAME chains in the answer, NXDOMAIN, NODATA, silence for TIMEOUT),
// so the SPF evaluation under test goes through cutover's transport and resolver adapter.
import dnsPacket, { type Answer, type DecodedPacket } from 'dns-packet';
import { splitTxt } from '../../server/dns/wire.ts';
import { startScriptedServer, type FakeServer } from './fake-servers.ts';

export type ZoneEntry = 'TIMEOUT' | Record<string, unknown>;
export type ZoneData = Record<string, ZoneEntry[]>;

const key = (name: string) => name.toLowerCase().replace(/\.$/, '');

function entriesOf(zone: Map<string, ZoneEntry[]>, name: string, type: string): { exists: boolean; timeout: boolean; values: unknown[] } {
  const entries = zone.get(key(name));
  if (entries === undefined) return { exists: false, timeout: false, values: [] };
  const typed = (t: string) => entries.flatMap((entry) => (entry !== 'TIMEOUT' && t in entry ? [entry[t]] : []));
  let values = typed(type);
  // "TXT: NONE" says there is no TXT record; otherwise a name with only type-99 SPF records gets
  // them as TXT, the suite's convention for RFC 7208 (which looks up TXT only).
  if (type === 'TXT') {
    const none = values.includes('NONE');
    values = values.filter((value) => value !== 'NONE');
    if (values.length === 0 && !none) values = typed('SPF');
  }
  return { exists: true, timeout: values.length === 0 && entries.includes('TIMEOUT'), values };
}

function answer(name: string, type: string, value: unknown): Answer {
  const base = { name, ttl: 300, class: 'IN' as const };
  switch (type) {
    case 'MX': {
      const [preference, exchange] = value as [number, string];
      return { ...base, type: 'MX', data: { preference, exchange } };
    }
    case 'TXT':
      return { ...base, type: 'TXT', data: splitTxt(Array.isArray(value) ? (value as string[]) : [String(value)]) };
    default:
      return { ...base, type: type as 'A', data: String(value) };
  }
}

/** Answers one question from the zone; null means "stay silent" (TIMEOUT). */
export function resolve(zone: Map<string, ZoneEntry[]>, name: string, type: string): { rcode: number; answers: Answer[] } | null {
  const answers: Answer[] = [];
  let owner = name;
  for (let hops = 0; hops < 8; hops++) {
    const alias = entriesOf(zone, owner, 'CNAME');
    if (type === 'CNAME' || alias.values.length === 0) break;
    answers.push({ name: owner, ttl: 300, class: 'IN', type: 'CNAME', data: String(alias.values[0]) });
    owner = String(alias.values[0]);
  }
  const found = entriesOf(zone, owner, type);
  if (found.timeout) return null;
  if (!found.exists) return { rcode: 3, answers };
  answers.push(...found.values.map((value) => answer(owner, type, value)));
  return { rcode: 0, answers };
}

export async function serveZone(data: ZoneData | undefined): Promise<FakeServer> {
  const zone = new Map(Object.entries(data ?? {}).map(([name, entries]) => [key(name), entries]));
  const reply = (query: DecodedPacket): Buffer | null => {
    const question = query.questions?.[0];
    if (!question) return null;
    const result = resolve(zone, question.name, question.type);
    if (result === null) return null;
    const flags = dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | result.rcode;
    return dnsPacket.encode({ type: 'response', id: query.id, flags, questions: [question], answers: result.answers });
  };
  return startScriptedServer({
    udp: (query, send) => { const out = reply(query); if (out) send(out); },
    tcp: (query, socket) => { const out = reply(query); if (out) socket.write(dnsPacket.streamEncode(dnsPacket.decode(out))); },
  });
}
