import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import dnsPacket, { type Packet, type RecordType } from 'dns-packet';
import { CutoverError } from '../errors.ts';
import { normalizeName } from './names.ts';
import { assertEncodableName, decodeHead, decodeMessage, WireError, type WireMessage, type WireRecord } from './wire.ts';

export type { RecordType };
export type Answer = WireRecord;

export interface NameServer { host: string; port: number }

export interface DnsResponse {
  rcode: string;
  authoritative: boolean;
  truncated: boolean;
  answers: WireRecord[];
  authorities: WireRecord[];
  additionals: WireRecord[];
  /** Who answered, as host:port. */
  server: string;
  /** Bytes of the reply that was used (the TCP one after a truncated UDP reply). */
  size: number;
}

export interface QueryOptions {
  /** Per attempt (UDP) or for the whole exchange (TCP). Default 2000. */
  timeoutMs?: number;
  /** UDP re-sends after a timeout. Default 2. */
  retries?: number;
  /** Default true; authoritative checks send RD=0. */
  recursionDesired?: boolean;
}

/** Why a query failed, for callers that react differently (a timeout is grey, a refusal is an answer of sorts). */
export type FailureKind = 'timeout' | 'unreachable' | 'malformed' | 'tcp' | 'input';

const DEFAULT_PORT = 53;
/** RFC 9715 / DNS flag day 2020: large enough for most answers, small enough to avoid IP fragmentation. */
export const EDNS_UDP_PAYLOAD = 1232;
const FALLBACK_SERVER: NameServer = { host: '127.0.0.1', port: DEFAULT_PORT };
/** A server that keeps sending replies we must ignore is not going to send a good one. */
const MAX_IGNORED_REPLIES = 64;

// ---- bounded concurrency -------------------------------------------------------------------

let maxInFlight = 64;
let inFlight = 0;
const queue: Array<() => void> = [];

/** Diagnostics fan out to every server for every name; this caps the sockets open at once. */
export function setMaxInFlight(limit: number): void {
  maxInFlight = Math.max(1, Math.floor(limit));
}

export function queriesInFlight(): number {
  return inFlight;
}

async function withSlot<T>(work: () => Promise<T>): Promise<T> {
  if (inFlight >= maxInFlight) await new Promise<void>((resolve) => queue.push(resolve));
  inFlight += 1;
  try {
    return await work();
  } finally {
    inFlight -= 1;
    queue.shift()?.();
  }
}

// ---- queries -------------------------------------------------------------------------------

interface PendingQuery { id: number; name: string; type: RecordType; packet: Packet; wire: Buffer }

/** A reply is either ours (decoded), or something to ignore (not ours), or ours but broken. */
type Verdict = { kind: 'accepted'; reply: WireMessage } | { kind: 'ignored'; reason: string } | { kind: 'rejected'; reason: string };

class TransportFailure extends Error {
  constructor(readonly kind: FailureKind, message: string) {
    super(message);
  }
}

export async function query(server: NameServer, name: string, type: RecordType, opts: QueryOptions = {}): Promise<DnsResponse> {
  const timeoutMs = opts.timeoutMs ?? 2000;
  let request: PendingQuery;
  try {
    request = buildRequest(name, type, opts.recursionDesired ?? true);
  } catch (err) {
    throw new CutoverError('INPUT_INVALID', { detail: messageOf(err) });
  }
  try {
    return await withSlot(async () => {
      const udpReply = await exchangeUdp(server, request, timeoutMs, opts.retries ?? 2);
      const reply = udpReply.tc ? await exchangeTcp(server, request, timeoutMs) : udpReply;
      return toResponse(reply, server);
    });
  } catch (err) {
    const kind = err instanceof TransportFailure ? err.kind : 'unreachable';
    if (kind === 'malformed') {
      throw new CutoverError('DNS_REPLY_INVALID', { name, type, server: formatNameServer(server), detail: messageOf(err), kind }, { retryable: true, cause: err });
    }
    throw new CutoverError('DNS_QUERY_FAILED', { name, type, server: formatNameServer(server), detail: messageOf(err), kind }, { retryable: true, cause: err });
  }
}

/** The failure kind of an error thrown by query(), or null for anything else. */
export function failureKind(err: unknown): FailureKind | null {
  if (!(err instanceof CutoverError)) return null;
  if (err.code === 'INPUT_INVALID') return 'input';
  return typeof err.params.kind === 'string' ? (err.params.kind as FailureKind) : null;
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

/**
 * Anything arriving on the socket is untrusted. Datagrams that are not a reply to this query
 * (another id, another question, not even a header) are skipped: a late answer or an off-path
 * spoofing attempt must not end the wait. A reply that is ours but broken ends it at once with
 * the reason, instead of a timeout that would hide what went wrong.
 */
function inspectReply(message: Buffer, request: PendingQuery, transport: 'udp' | 'tcp'): Verdict {
  if (transport === 'udp' && message.length > EDNS_UDP_PAYLOAD) {
    // Checked before the id: nothing legitimate is larger than what we said we accept.
    return { kind: 'rejected', reason: `oversized reply: ${message.length} bytes over UDP, above the ${EDNS_UDP_PAYLOAD} bytes advertised with EDNS` };
  }
  let head;
  try {
    head = decodeHead(message);
  } catch (err) {
    return { kind: 'ignored', reason: `unreadable datagram (${messageOf(err)})` };
  }
  if (head.id !== request.id || !head.qr) return { kind: 'ignored', reason: 'reply with a different id' };
  const question = head.question;
  const sameQuestion = question !== null && normalizeName(question.name) === normalizeName(request.name) && question.type === request.type;
  if (!sameQuestion) return { kind: 'ignored', reason: 'reply for a different question' };
  try {
    const reply = decodeMessage(message);
    if (reply.questions.length !== 1) return { kind: 'rejected', reason: `malformed reply: ${reply.questions.length} questions` };
    return { kind: 'accepted', reply };
  } catch (err) {
    // Some servers cut a truncated datagram mid-record; with TC=1 the answer comes over TCP anyway.
    if (transport === 'udp' && (message[2]! & 0x02) !== 0) return { kind: 'accepted', reply: truncatedStub(message) };
    if (err instanceof WireError) return { kind: 'rejected', reason: `malformed reply: ${err.message}` };
    return { kind: 'rejected', reason: `malformed reply (${messageOf(err)})` };
  }
}

function truncatedStub(message: Buffer): WireMessage {
  return {
    id: message.readUInt16BE(0), qr: true, opcode: 'QUERY', aa: false, tc: true, rd: false, ra: false, rcode: 'NOERROR',
    questions: [], answers: [], authorities: [], additionals: [], edns: null, size: message.length,
  };
}

function exchangeUdp(server: NameServer, request: PendingQuery, timeoutMs: number, retries: number): Promise<WireMessage> {
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
    const fail = (err: TransportFailure): void => settle(() => reject(err));
    const send = (): void => {
      attempts += 1;
      socket.send(request.wire, (err) => { if (err) fail(new TransportFailure('unreachable', err.message)); });
      timer = setTimeout(onTimeout, timeoutMs);
    };
    const onTimeout = (): void => {
      if (attempts <= retries) return send();
      fail(new TransportFailure('timeout', `no reply within ${timeoutMs} ms (${attempts} attempt${attempts === 1 ? '' : 's'})${ignoredSuffix(ignored)}`));
    };
    socket.on('error', (err) => fail(new TransportFailure('unreachable', err.message)));
    socket.on('message', (message: Buffer) => {
      const verdict = inspectReply(message, request, 'udp');
      if (verdict.kind === 'accepted') settle(() => resolve(verdict.reply));
      else if (verdict.kind === 'rejected') fail(new TransportFailure('malformed', verdict.reason));
      else if (ignored.push(verdict.reason) > MAX_IGNORED_REPLIES) fail(new TransportFailure('malformed', `flooded with unusable replies${ignoredSuffix(ignored)}`));
    });
    // A connected socket lets the kernel drop datagrams from any other source and report ICMP
    // port-unreachable as an error instead of a silent timeout.
    socket.connect(server.port, server.host, send);
  });
}

/** Used after a truncated UDP reply; TCP retransmits by itself, so one attempt is enough. */
function exchangeTcp(server: NameServer, request: PendingQuery, timeoutMs: number): Promise<WireMessage> {
  return tcpExchange(server, request.wire, timeoutMs, (message) => inspectReply(message, request, 'tcp'), 'over TCP after a truncated UDP reply: ');
}

/**
 * One request over TCP, the reply picked from the length-prefixed frames by `inspect`. Each
 * frame is cut at its declared length, so a corrupt message cannot be decoded into the next one.
 */
function tcpExchange(server: NameServer, wire: Buffer, timeoutMs: number, inspect: (message: Buffer) => Verdict, prefix: string): Promise<WireMessage> {
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
    const fail = (kind: FailureKind, detail: string): void => settle(() => reject(new TransportFailure(kind, `${prefix}${detail}${ignoredSuffix(ignored)}`)));
    const timer = setTimeout(() => fail('timeout', `no reply within ${timeoutMs} ms`), timeoutMs);
    socket.on('connect', () => socket.write(Buffer.concat([lengthPrefix(wire.length), wire])));
    socket.on('error', (err) => fail('tcp', err.message));
    socket.on('close', () => fail('tcp', 'connection closed before a matching reply'));
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      for (let frame = takeFrame(pending); frame !== null && !settled; frame = takeFrame(pending)) {
        pending = pending.subarray(frame.length + 2);
        const verdict = inspect(frame);
        if (verdict.kind === 'accepted') settle(() => resolve(verdict.reply));
        else if (verdict.kind === 'rejected') fail('malformed', verdict.reason);
        else if (ignored.push(verdict.reason) > MAX_IGNORED_REPLIES) fail('malformed', 'flooded with unusable replies');
      }
    });
  });
}

export interface RawExchange { wire: Buffer; message: WireMessage }

/**
 * Sends a prepared message over TCP and returns the reply with its id, raw and decoded (RFC 2136
 * updates: the raw bytes are what the response's TSIG signature covers).
 */
export async function exchangeRaw(server: NameServer, wire: Buffer, timeoutMs = 5000): Promise<RawExchange> {
  const id = wire.readUInt16BE(0);
  let raw: Buffer | undefined;
  const inspect = (message: Buffer): Verdict => {
    let head;
    try {
      head = decodeHead(message);
    } catch (err) {
      return { kind: 'rejected', reason: `malformed reply: ${messageOf(err)}` };
    }
    if (head.id !== id || !head.qr) return { kind: 'ignored', reason: 'reply with a different id' };
    try {
      raw = Buffer.from(message);
      return { kind: 'accepted', reply: decodeMessage(message) };
    } catch (err) {
      return { kind: 'rejected', reason: `malformed reply: ${messageOf(err)}` };
    }
  };
  try {
    const message = await withSlot(() => tcpExchange(server, wire, timeoutMs, inspect, ''));
    return { wire: raw!, message };
  } catch (err) {
    const kind = err instanceof TransportFailure ? err.kind : 'unreachable';
    const code = kind === 'malformed' ? 'DNS_REPLY_INVALID' : 'DNS_QUERY_FAILED';
    throw new CutoverError(code, { name: '(update)', type: 'UPDATE', server: formatNameServer(server), detail: messageOf(err), kind }, { retryable: true, cause: err });
  }
}

function lengthPrefix(length: number): Buffer {
  const out = Buffer.alloc(2);
  out.writeUInt16BE(length);
  return out;
}

/** The next complete length-prefixed message body, or null while bytes are missing. */
function takeFrame(buffer: Buffer): Buffer | null {
  if (buffer.length < 2) return null;
  const end = 2 + buffer.readUInt16BE(0);
  return buffer.length < end ? null : buffer.subarray(2, end);
}

function toResponse(reply: WireMessage, server: NameServer): DnsResponse {
  return {
    rcode: reply.rcode,
    authoritative: reply.aa,
    truncated: reply.tc,
    answers: reply.answers,
    authorities: reply.authorities,
    additionals: reply.additionals.filter((record) => record.type !== 'OPT'),
    server: formatNameServer(server),
    size: reply.size,
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
