import net from 'node:net';
import zlib from 'node:zlib';

/**
 * A TCP proxy on 127.0.0.1 for fault injection in front of a test IMAP server. It forwards
 * every connection to the target port, counts the bytes in each direction (all connections
 * together) and, on request, cuts every connection at an exact byte, right now, or just before a
 * server line matching a pattern; it can also hold all traffic, or answer the first APPENDs
 * itself (a throttling server) without the real server ever seeing them.
 *
 * Both directions are read as IMAP (lines, and literals announced by `{n}`, `{n+}` or `~{n}` at
 * the end of a line), so a cut records where it fell: inside which command or response, and
 * whether inside a literal (a message body). After COMPRESS DEFLATE (imapflow asks Dovecot for
 * it) the bytes pass through untouched and are counted as they travel, compressed; where a cut
 * fell is then read from the inflated stream. The throttle and the line trigger see only
 * uncompressed connections (the pipelined appender's).
 */

export type Direction = 'up' | 'down';

/** Where a cut fell on the connection that carried the last byte. */
export interface CutRecord {
  reason: 'bytes' | 'now' | 'line';
  direction?: Direction;
  /** The first line of the command (up) or response (down) in progress at the cut, '' at a boundary. */
  unit: string;
  /** True when the cut fell inside a literal (message content). */
  inLiteral: boolean;
  /** 1-based index of that literal within its command or response (MULTIAPPEND carries many). */
  literalIndex: number;
  /** Literal bytes of that literal forwarded before the cut, and its announced size. */
  literalSent: number;
  literalSize: number;
  /** Connections destroyed. */
  connections: number;
  at: number;
}

export interface CommandRecord { connection: number; tag: string; verb: string; line: string; at: number; throttled: boolean }

export interface ThrottleOptions {
  /** How many APPEND commands to answer with `reply` instead of passing them on. */
  times: number;
  /** The tagged answer after the tag, e.g. `NO [UNAVAILABLE] Request is throttled. Suggested Backoff Time: 1500 milliseconds`. */
  reply: string;
}

/**
 * Source-side throttling as Exchange Online does it: the next `times` commands whose verb is in
 * `verbs` (UID FETCH counts as FETCH) are answered by the proxy, never reaching the server: with
 * the tagged `reply` after `delayMs`, or with `* BYE reply` and a closed connection.
 */
export interface CommandThrottle {
  verbs: string[];
  times: number;
  reply: string;
  bye?: boolean;
  delayMs?: number;
}

export interface TcpProxy {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** Bytes forwarded client→server and server→client, all connections together. */
  readonly bytesUp: number;
  readonly bytesDown: number;
  /** Connections accepted so far, and open now. */
  readonly accepted: number;
  readonly open: number;
  /** The most connections ever open at the same time. */
  readonly maxOpen: number;
  /**
   * Round trips, all connections together: each time a client speaks again after the server spoke
   * (the greeting counts), it waited one. Pipelined commands sent in one go cost one.
   */
  readonly roundTrips: number;
  readonly cuts: CutRecord[];
  /** Every command the clients sent (first line only), in order. */
  readonly commands: CommandRecord[];
  /** Resolves once `bytes` more bytes went through in that direction (nothing else happens). */
  afterBytes(direction: Direction, bytes: number): Promise<void>;
  /** Cuts every connection once `bytes` more bytes went through in that direction; resolves with the record. */
  cutAfter(direction: Direction, bytes: number): Promise<CutRecord>;
  /** Cuts every connection just before the server sends a line matching `pattern` (the line is not forwarded). */
  cutBeforeServerLine(pattern: RegExp): Promise<CutRecord>;
  /** Cuts every connection at once. */
  cutNow(): CutRecord;
  /** Answers the next `times` APPEND commands itself with `reply`; the server never sees them. */
  throttleAppends(options: ThrottleOptions): void;
  /** Answers the next commands of some verbs itself (see CommandThrottle); `times: Infinity` never ends. */
  throttleCommands(options: CommandThrottle): void;
  /** Takes these capabilities out of what the server announces (LIST-STATUS, COMPRESS=DEFLATE: Exchange has neither). */
  hideCapabilities(names: string[]): void;
  /** Stops forwarding in both directions on every connection (new ones too) until resume(). */
  hold(): void;
  resume(): void;
  stop(): Promise<void>;
}

const LITERAL_AT_END = /~?\{(\d+)(\+?)\}\r\n$/;

type Segment =
  | { kind: 'line'; raw: Buffer; text: string; first: boolean; last: boolean; literal?: { size: number; synchronising: boolean } }
  | { kind: 'literal'; raw: Buffer }
  /** Bytes after COMPRESS DEFLATE: passed on as they are. */
  | { kind: 'opaque'; raw: Buffer };

/** Splits one direction of an IMAP stream into lines and literal chunks, keeping track of the unit (command or response) in progress. */
class ImapStream {
  private pending: Buffer[] = [];
  private literalLeft = 0;
  unit = '';
  literalIndex = 0;
  literalSize = 0;
  /** Set once the stream is compressed: what follows is not parsed any more. */
  opaque = false;

  get inLiteral(): boolean {
    return this.literalLeft > 0;
  }

  get literalSent(): number {
    return this.literalSize - this.literalLeft;
  }

  *feed(chunk: Buffer): Generator<Segment> {
    let rest = chunk;
    while (rest.length) {
      if (this.opaque) {
        yield { kind: 'opaque', raw: rest };
        return;
      }
      if (this.literalLeft > 0) {
        const n = Math.min(this.literalLeft, rest.length);
        const raw = rest.subarray(0, n);
        rest = rest.subarray(n);
        this.literalLeft -= n;
        yield { kind: 'literal', raw };
        continue;
      }
      // A line ends at LF: GNU imap4d ends some replies with a bare LF, which must pass on too.
      const lf = rest.indexOf(0x0a);
      const end = lf === -1 ? -1 : lf + 1;
      if (end === -1) {
        this.pending.push(rest);
        return;
      }
      const raw = this.pending.length ? Buffer.concat([...this.pending, rest.subarray(0, end)]) : rest.subarray(0, end);
      this.pending = [];
      rest = rest.subarray(end);
      const text = raw.toString('latin1');
      const first = this.unit === '';
      if (first) {
        this.unit = text.replace(/\r?\n$/, '').slice(0, 300);
        this.literalIndex = 0;
      }
      const m = LITERAL_AT_END.exec(text);
      if (m) {
        const size = Number(m[1]);
        this.literalIndex++;
        this.literalSize = size;
        this.literalLeft = size;
        yield { kind: 'line', raw, text, first, last: false, literal: { size, synchronising: m[2] !== '+' } };
        // A zero-length literal is followed directly by the rest of the line.
      } else {
        this.unit = '';
        yield { kind: 'line', raw, text, first, last: true };
      }
    }
  }

  /** Whatever was received but not yet complete (a partial line), for a clean end of stream. */
  takePending(): Buffer {
    const out = Buffer.concat(this.pending);
    this.pending = [];
    return out;
  }

  /** The unit in progress, including a partial first line not yet complete. */
  describeUnit(): string {
    if (this.unit) return this.unit;
    return Buffer.concat(this.pending).toString('latin1').slice(0, 300);
  }
}

/** The state of a compressed stream at its last byte: inflated from its start (COMPRESS DEFLATE is raw deflate, RFC 4978). */
function inflated(chunks: Buffer[]): ImapStream {
  const stream = new ImapStream();
  try {
    const plain = zlib.inflateRawSync(Buffer.concat(chunks), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    for (const _ of stream.feed(plain)) { /* state only */ }
  } catch {
    stream.unit = '(compressed stream not readable)';
  }
  return stream;
}

interface Conn {
  id: number;
  client: net.Socket;
  server: net.Socket;
  streams: Record<Direction, ImapStream>;
  /** The up-stream command being swallowed by the throttle: its tag, and what it is answered. */
  swallowing?: string;
  swallowReply?: string;
  swallowBye?: boolean;
  swallowDelayMs?: number;
  /** Tag of a COMPRESS command sent, and once the server accepted it, the compressed bytes forwarded each way. */
  compressTag?: string;
  compressed?: Record<Direction, Buffer[]>;
  waitingDrain: Record<Direction, boolean>;
  closed: boolean;
  /** After COMPRESS, what the client sends is inflated on the side to keep recording its commands. */
  inflateUp?: zlib.InflateRaw;
  /** Who sent the last bytes on this connection: a turn from 'down' to 'up' is one round trip. */
  lastSpoke?: Direction;
}

/** Records the commands of a compressed client stream (first lines only), as they are inflated. */
function commandsAfterCompress(c: Conn, record: (command: CommandRecord) => void): zlib.InflateRaw {
  const inflate = zlib.createInflateRaw({ finishFlush: zlib.constants.Z_SYNC_FLUSH });
  const stream = new ImapStream();
  inflate.on('data', (plain: Buffer) => {
    for (const s of stream.feed(plain)) {
      if (s.kind !== 'line' || !s.first) continue;
      const [tag = '', verb = ''] = s.text.split(' ', 3);
      record({ connection: c.id, tag, verb: verb.toUpperCase().replace(/\r?\n$/, ''), line: s.text.replace(/\r?\n$/, '').slice(0, 300), at: Date.now(), throttled: false });
    }
  });
  inflate.on('error', () => undefined);
  return inflate;
}

interface ByteTrigger { direction: Direction; at: number; resolve: (cut: CutRecord) => void }
interface LineTrigger { pattern: RegExp; resolve: (cut: CutRecord) => void }

export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  const conns = new Set<Conn>();
  const counts: Record<Direction, number> = { up: 0, down: 0 };
  const cuts: CutRecord[] = [];
  const commands: CommandRecord[] = [];
  let accepted = 0;
  let maxOpen = 0;
  let roundTrips = 0;
  let held = false;
  let byteTrigger: ByteTrigger | undefined;
  let watchers: Array<{ direction: Direction; at: number; resolve: () => void }> = [];
  let lineTrigger: LineTrigger | undefined;
  let throttle: ThrottleOptions | undefined;
  let commandThrottle: CommandThrottle | undefined;
  let hidden: string[] = [];

  const from = (c: Conn, d: Direction) => (d === 'up' ? c.client : c.server);
  const to = (c: Conn, d: Direction) => (d === 'up' ? c.server : c.client);

  const maybeResume = (c: Conn, d: Direction) => {
    if (!held && !c.waitingDrain[d] && !c.closed) from(c, d).resume();
  };

  const destroy = (c: Conn) => {
    c.closed = true;
    c.inflateUp?.destroy();
    c.client.destroy();
    c.server.destroy();
    conns.delete(c);
  };

  const cutAll = (record: Omit<CutRecord, 'connections' | 'at'>): CutRecord => {
    const full: CutRecord = { ...record, connections: conns.size, at: Date.now() };
    for (const c of [...conns]) destroy(c);
    cuts.push(full);
    return full;
  };

  const where = (c: Conn, d: Direction, reason: CutRecord['reason']): Omit<CutRecord, 'connections' | 'at'> => {
    const s = c.compressed ? inflated(c.compressed[d]) : c.streams[d];
    return { reason, direction: d, unit: s.describeUnit(), inLiteral: s.inLiteral, literalIndex: s.literalIndex, literalSent: s.literalSent, literalSize: s.literalSize };
  };

  /** Forwards bytes in one direction; false once the connection is gone (cut). */
  const send = (c: Conn, d: Direction, buf: Buffer): boolean => {
    if (c.closed) return false;
    let out = buf;
    let cutHere = false;
    if (byteTrigger && byteTrigger.direction === d && counts[d] + out.length >= byteTrigger.at) {
      out = out.subarray(0, byteTrigger.at - counts[d]);
      cutHere = true;
    }
    counts[d] += out.length;
    if (watchers.length) {
      const due = watchers.filter((w) => w.direction === d && counts[d] >= w.at);
      watchers = watchers.filter((w) => !due.includes(w));
      for (const w of due) w.resolve();
    }
    if (out.length) {
      // The bookkeeping stream follows exactly the bytes that went through.
      if (c.compressed) {
        c.compressed[d].push(out);
        if (d === 'up') c.inflateUp?.write(out);
      }
      else for (const _ of c.streams[d].feed(out)) { /* state only */ }
      if (!to(c, d).write(out)) {
        c.waitingDrain[d] = true;
        from(c, d).pause();
      }
    }
    if (cutHere) {
      const trigger = byteTrigger!;
      byteTrigger = undefined;
      trigger.resolve(cutAll(where(c, d, 'bytes')));
      return false;
    }
    return true;
  };

  // Up: commands are recorded, and APPENDs swallowed while throttling. Down: lines are checked against the line trigger.
  const onData = (c: Conn, d: Direction, chunk: Buffer) => {
    if (d === 'up' && c.lastSpoke === 'down') roundTrips++;
    c.lastSpoke = d;
    const gate = gates[d];
    for (const segment of gate.parser.get(c)!.feed(chunk)) {
      if (!gate.handle(c, segment)) return;
    }
  };

  // The parser that decides (gate) runs ahead of the one that records what was forwarded (c.streams).
  const gates: Record<Direction, { parser: WeakMap<Conn, ImapStream>; handle: (c: Conn, s: Segment) => boolean }> = {
    up: {
      parser: new WeakMap(),
      handle(c, s) {
        if (s.kind === 'line' && s.first) {
          const [tag = '', verb = ''] = s.text.split(' ', 3);
          if (/^COMPRESS(\r\n)?$/i.test(verb)) c.compressTag = tag;
          const isAppend = verb.toUpperCase() === 'APPEND';
          let throttled = Boolean(isAppend && throttle && throttle.times > 0);
          if (throttled) {
            throttle!.times--;
            c.swallowing = tag;
            c.swallowReply = `${tag} ${throttle!.reply}`;
          }
          const words = s.text.replace(/\r?\n$/, '').split(' ');
          const command = (words[1]?.toUpperCase() === 'UID' ? words[2] : words[1])?.toUpperCase() ?? '';
          if (!throttled && commandThrottle && commandThrottle.times > 0 && commandThrottle.verbs.includes(command)) {
            commandThrottle.times--;
            throttled = true;
            c.swallowing = tag;
            c.swallowReply = commandThrottle.bye ? `* BYE ${commandThrottle.reply}` : `${tag} ${commandThrottle.reply}`;
            c.swallowBye = Boolean(commandThrottle.bye);
            c.swallowDelayMs = commandThrottle.delayMs ?? 0;
          }
          commands.push({ connection: c.id, tag, verb: verb.toUpperCase().replace(/\r?\n$/, ''), line: s.text.replace(/\r?\n$/, '').slice(0, 300), at: Date.now(), throttled });
        }
        if (c.swallowing !== undefined) {
          if (s.kind === 'line' && s.literal?.synchronising) c.client.write('+ Ready for literal data\r\n');
          if (s.kind === 'line' && s.last) {
            const reply = `${c.swallowReply}\r\n`;
            const bye = c.swallowBye;
            const answer = () => {
              if (c.closed) return;
              c.client.write(reply);
              if (bye) { c.closed = true; c.client.end(); c.server.destroy(); conns.delete(c); }
            };
            if (c.swallowDelayMs) setTimeout(answer, c.swallowDelayMs);
            else answer();
            c.swallowing = undefined;
            c.swallowBye = false;
            c.swallowDelayMs = 0;
          }
          return !c.closed;
        }
        return send(c, 'up', s.raw);
      },
    },
    down: {
      parser: new WeakMap(),
      handle(c, s) {
        if (lineTrigger && s.kind === 'line' && lineTrigger.pattern.test(s.text)) {
          const trigger = lineTrigger;
          lineTrigger = undefined;
          trigger.resolve(cutAll({ ...where(c, 'down', 'line'), unit: s.text.replace(/\r?\n$/, '') }));
          return false;
        }
        if (hidden.length && s.kind === 'line' && /CAPABILITY /i.test(s.text)) {
          // The announced capabilities minus the hidden ones, wherever they are listed (untagged or in a response code).
          const edited = s.text.replace(/(CAPABILITY )([^\]\r\n]*)/i, (_, head: string, list: string) => head + list.split(' ').filter((cap) => !hidden.includes(cap.toUpperCase())).join(' '));
          return send(c, 'down', Buffer.from(edited, 'latin1'));
        }
        if (!send(c, 'down', s.raw)) return false;
        // The client compresses what it sends after this OK, the server what follows it.
        if (s.kind === 'line' && c.compressTag && s.text.startsWith(`${c.compressTag} `)) {
          if (/^\S+ OK/i.test(s.text)) {
            c.compressed = { up: [], down: [] };
            c.inflateUp = commandsAfterCompress(c, (record) => commands.push(record));
            gates.up.parser.get(c)!.opaque = true;
            gates.down.parser.get(c)!.opaque = true;
          }
          c.compressTag = undefined;
        }
        return true;
      },
    },
  };

  const server = net.createServer({ noDelay: true }, (client) => {
    accepted++;
    const upstream = net.connect({ host: targetHost, port: targetPort, noDelay: true });
    const c: Conn = { id: accepted, client, server: upstream, streams: { up: new ImapStream(), down: new ImapStream() }, waitingDrain: { up: false, down: false }, closed: false };
    gates.up.parser.set(c, new ImapStream());
    gates.down.parser.set(c, new ImapStream());
    conns.add(c);
    maxOpen = Math.max(maxOpen, conns.size);
    if (held) { client.pause(); upstream.pause(); }
    client.on('data', (chunk: Buffer) => onData(c, 'up', chunk));
    upstream.on('data', (chunk: Buffer) => onData(c, 'down', chunk));
    client.on('drain', () => { c.waitingDrain.down = false; maybeResume(c, 'down'); });
    upstream.on('drain', () => { c.waitingDrain.up = false; maybeResume(c, 'up'); });
    // An orderly close on one side is passed on after what is still buffered (a BYE, say).
    const finish = (d: Direction) => {
      if (c.closed) return;
      const rest = gates[d].parser.get(c)!.takePending();
      if (rest.length) send(c, d, rest);
      if (c.closed) return;
      to(c, d).end();
      c.closed = true;
      conns.delete(c);
      setTimeout(() => { client.destroy(); upstream.destroy(); }, 2_000).unref();
    };
    client.on('end', () => finish('up'));
    upstream.on('end', () => finish('down'));
    const fail = () => { if (!c.closed) destroy(c); };
    client.on('error', fail);
    upstream.on('error', fail);
    client.on('close', () => { if (!c.closed) destroy(c); });
    upstream.on('close', () => { if (!c.closed) destroy(c); });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('tcp-proxy: unexpected listen address');

  return {
    host: '127.0.0.1',
    port: address.port,
    get bytesUp() { return counts.up; },
    get bytesDown() { return counts.down; },
    get accepted() { return accepted; },
    get open() { return conns.size; },
    get maxOpen() { return maxOpen; },
    get roundTrips() { return roundTrips; },
    cuts,
    commands,
    afterBytes(direction, bytes) {
      return new Promise((resolve) => { watchers.push({ direction, at: counts[direction] + Math.max(0, bytes), resolve }); });
    },
    cutAfter(direction, bytes) {
      if (byteTrigger) throw new Error('tcp-proxy: a byte trigger is already armed');
      return new Promise((resolve) => { byteTrigger = { direction, at: counts[direction] + Math.max(0, bytes), resolve }; });
    },
    cutBeforeServerLine(pattern) {
      if (lineTrigger) throw new Error('tcp-proxy: a line trigger is already armed');
      return new Promise((resolve) => { lineTrigger = { pattern, resolve }; });
    },
    cutNow() {
      return cutAll({ reason: 'now', unit: '', inLiteral: false, literalIndex: 0, literalSent: 0, literalSize: 0 });
    },
    throttleAppends(options) {
      throttle = { ...options };
    },
    throttleCommands(options) {
      commandThrottle = { ...options, verbs: options.verbs.map((v) => v.toUpperCase()) };
    },
    hideCapabilities(names) {
      hidden = names.map((n) => n.toUpperCase());
    },
    hold() {
      held = true;
      for (const c of conns) { c.client.pause(); c.server.pause(); }
    },
    resume() {
      held = false;
      for (const c of conns) { maybeResume(c, 'up'); maybeResume(c, 'down'); }
    },
    async stop() {
      held = false;
      byteTrigger = undefined;
      lineTrigger = undefined;
      for (const c of [...conns]) destroy(c);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
