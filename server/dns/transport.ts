import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import dnsPacket, { type Answer, type DecodedPacket, type Packet, type RecordType } from 'dns-packet';
import { CutoverError } from '../errors.ts';
import { normalizeName } from './names.ts';

export type { Answer, RecordType };

export interface NameServer { host: string; port: number }

export interface DnsResponse {
  rcode: string;
  authoritative: boolean;
  truncated: boolean;
  answers: Answer[];
  authorities: Answer[];
}

export interface QueryOptions {
  /** Per attempt (UDP) or for the whole exchange (TCP). Default 2000. */
  timeoutMs?: number;
  /** UDP re-sends after a timeout. Default 2. */
  retries?: number;
  /** Default true; authoritative checks send RD=0. */
  recursionDesired?: boolean;
}

const DEFAULT_PORT = 53;
/** RFC 9715 / DNS flag day 2020: large enough for most answers, small enough to avoid IP fragmentation. */
const EDNS_UDP_PAYLOAD = 1232;
const FALLBACK_SERVER: NameServer = { host: '127.0.0.1', port: DEFAULT_PORT };

/** dns-packet decodes the header's rcode, but its type definitions leave the field out. */
type WirePacket = DecodedPacket & { rcode?: string };

interface PendingQuery { id: number; name: string; type: RecordType; packet: Packet; wire: Buffer }

type Verdict = { accepted: true; reply: WirePacket } | { accepted: false; reason: string };

export async function query(server: NameServer, name: string, type: RecordType, opts: QueryOptions = {}): Promise<DnsResponse> {
  const timeoutMs = opts.timeoutMs ?? 2000;
  const request = buildRequest(name, type, opts.recursionDesired ?? true);
  try {
    const udpReply = await exchangeUdp(server, request, timeoutMs, opts.retries ?? 2);
    const reply = udpReply.flag_tc ? await exchangeTcp(server, request, timeoutMs) : udpReply;
    return toResponse(reply);
  } catch (err) {
    throw new CutoverError('DNS_QUERY_FAILED', { name, type, server: formatNameServer(server), detail: messageOf(err) }, { retryable: true, cause: err });
  }
}

function buildRequest(name: string, type: RecordType, recursionDesired: boolean): PendingQuery {
  assertEncodableName(name);
  const id = randomInt(0, 0x10000);
  const packet: Packet = {
    type: 'query',
    id,
    flags: recursionDesired ? dnsPacket.RECURSION_DESIRED : 0,
    questions: [{ type, name, class: 'IN' }],
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: EDNS_UDP_PAYLOAD, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }],
  };
  return { id, name, type, packet, wire: dnsPacket.encode(packet) };
}

/** dns-packet encodes over-long or empty labels without complaint and produces a corrupt question. */
function assertEncodableName(name: string): void {
  const normal = normalizeName(name);
  if (normal === '.') return;
  const labels = normal.split('.');
  const valid = normal.length <= 253 && labels.every((label) => label.length > 0 && Buffer.byteLength(label) <= 63);
  if (!valid) throw new CutoverError('INPUT_INVALID', { detail: `"${name}" is not a valid DNS name` });
}

/**
 * Anything arriving on the socket is untrusted: a late answer to an earlier query, an off-path
 * spoofing attempt or plain garbage must be skipped, never allowed to throw out of an event handler.
 */
function inspectReply(decode: () => Packet | null, request: PendingQuery): Verdict {
  let reply: WirePacket;
  try {
    const decoded = decode();
    if (decoded === null) return { accepted: false, reason: 'incomplete reply' };
    reply = decoded as WirePacket;
  } catch (err) {
    return { accepted: false, reason: `malformed reply (${messageOf(err)})` };
  }
  if (reply.id !== request.id || reply.flag_qr !== true) return { accepted: false, reason: 'reply with a different id' };
  const questions = reply.questions ?? [];
  const question = questions[0];
  const sameQuestion = questions.length === 1 && question !== undefined
    && normalizeName(question.name) === normalizeName(request.name) && question.type === request.type;
  if (!sameQuestion) return { accepted: false, reason: 'reply for a different question' };
  return { accepted: true, reply };
}

function exchangeUdp(server: NameServer, request: PendingQuery, timeoutMs: number, retries: number): Promise<WirePacket> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(net.isIPv6(server.host) ? 'udp6' : 'udp4');
    const ignored: string[] = [];
    let attempts = 0;
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const settle = (finish: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.close();
      finish();
    };
    const fail = (err: Error): void => settle(() => reject(err));
    const send = (): void => {
      attempts += 1;
      socket.send(request.wire, (err) => { if (err) fail(err); });
      timer = setTimeout(onTimeout, timeoutMs);
    };
    const onTimeout = (): void => {
      if (attempts <= retries) return send();
      fail(new Error(`no reply within ${timeoutMs} ms (${attempts} attempt${attempts === 1 ? '' : 's'})${ignoredSuffix(ignored)}`));
    };
    socket.on('error', fail);
    socket.on('message', (message: Buffer) => {
      const verdict = inspectReply(() => dnsPacket.decode(message), request);
      if (verdict.accepted) settle(() => resolve(verdict.reply));
      else ignored.push(verdict.reason);
    });
    // A connected socket lets the kernel drop datagrams from any other source and report ICMP
    // port-unreachable as an error instead of a silent timeout.
    socket.connect(server.port, server.host, send);
  });
}

/** Used only after a truncated UDP reply; TCP retransmits by itself, so one attempt is enough. */
function exchangeTcp(server: NameServer, request: PendingQuery, timeoutMs: number): Promise<WirePacket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: server.host, port: server.port });
    const ignored: string[] = [];
    let pending = Buffer.alloc(0);
    let settled = false;
    const settle = (finish: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      finish();
    };
    const fail = (detail: string): void => settle(() => reject(new Error(`over TCP after a truncated UDP reply: ${detail}${ignoredSuffix(ignored)}`)));
    const timer = setTimeout(() => fail(`no reply within ${timeoutMs} ms`), timeoutMs);
    socket.on('connect', () => socket.write(dnsPacket.streamEncode(request.packet)));
    socket.on('error', (err) => fail(err.message));
    socket.on('close', () => fail('connection closed before a matching reply'));
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      for (let frame = takeFrame(pending); frame !== null && !settled; frame = takeFrame(pending)) {
        pending = pending.subarray(frame.length);
        const message = frame;
        const verdict = inspectReply(() => dnsPacket.streamDecode(message), request);
        if (verdict.accepted) settle(() => resolve(verdict.reply));
        else ignored.push(verdict.reason);
      }
    });
  });
}

/**
 * The next complete length-prefixed message, prefix included, or null while bytes are missing.
 * Slicing at the declared length keeps a corrupt message from being decoded into the next one
 * (streamDecode itself reads past its frame).
 */
function takeFrame(buffer: Buffer): Buffer | null {
  if (buffer.length < 2) return null;
  const end = 2 + buffer.readUInt16BE(0);
  return buffer.length < end ? null : buffer.subarray(0, end);
}

function toResponse(reply: WirePacket): DnsResponse {
  return {
    rcode: reply.rcode ?? 'UNKNOWN',
    authoritative: reply.flag_aa,
    truncated: reply.flag_tc,
    answers: reply.answers ?? [],
    authorities: reply.authorities ?? [],
  };
}

function ignoredSuffix(ignored: string[]): string {
  if (ignored.length === 0) return '';
  return `; ignored ${ignored.length} unusable repl${ignored.length === 1 ? 'y' : 'ies'}: ${[...new Set(ignored)].join(', ')}`;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function formatNameServer(server: NameServer): string {
  return net.isIPv6(server.host) ? `[${server.host}]:${server.port}` : `${server.host}:${server.port}`;
}

/**
 * Only IP literals: resolving a name server's own host name would need a resolver first, and
 * resolv.conf has the same rule.
 */
export function parseNameServer(spec: string): NameServer {
  const text = spec.trim();
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  const plain = net.isIPv6(text) ? null : /^([^:]+)(?::(\d+))?$/.exec(text);
  const host = bracketed?.[1] ?? plain?.[1] ?? text;
  const port = Number(bracketed?.[2] ?? plain?.[2] ?? DEFAULT_PORT);
  const hostValid = bracketed ? net.isIPv6(host) : net.isIP(host) !== 0;
  if (!hostValid || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new CutoverError('INPUT_INVALID', { detail: `"${spec}" is not a name server address (expected 192.0.2.1, 192.0.2.1:5300, ::1 or [::1]:5300)` });
  }
  return { host, port };
}

export function systemNameServers(file = '/etc/resolv.conf'): NameServer[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [{ ...FALLBACK_SERVER }];
  }
  const servers = text.split('\n').flatMap((line) => {
    const spec = /^\s*nameserver\s+(\S+)/.exec(line)?.[1];
    return spec === undefined ? [] : parseOrSkip(spec);
  });
  return servers.length > 0 ? servers : [{ ...FALLBACK_SERVER }];
}

/** One unusable line must not hide the other name servers (glibc skips it too). */
function parseOrSkip(spec: string): NameServer[] {
  try {
    return [parseNameServer(spec)];
  } catch {
    return [];
  }
}
