import type net from 'node:net';
import { CutoverError } from '../../errors.ts';
import type { ImapEndpoint } from '../../plugins/contract.ts';
import { LINE_LIMIT, LITERAL_LIMIT } from '../guard.ts';
import { APPENDER_STALL_MS, PipelinedAppender, type AppenderOptions } from './appender.ts';
import { isThrottle } from '../transient.ts';
import { encodeMailboxName } from './mutf7.ts';
import { parseTagged, quoted, uidRanges, type TaggedResponse } from './syntax.ts';

/** One FETCH answer as the copy uses it. `source` is set when the body came in memory. */
export interface FetchedMessage { seq: number; uid?: number; size?: number; internalDate?: Date; flags?: Set<string>; source?: Buffer; hadBody: boolean; header?: Buffer }

export interface MailboxState {
  exists: number; uidNext: number; uidValidity: string;
  /** PERMANENTFLAGS as the server listed them (parenthesised form only); unset when it sent none. */
  permanentFlags?: Set<string>;
}

/** Where a body literal streams to instead of memory (a spool file). `write` returning false pauses the socket until `onDrain`. */
export interface LiteralSink { write(chunk: Buffer): boolean; onDrain(resume: () => void): void }

export interface FetchOptions {
  /** The longest literal this command may carry (a body FETCH: what the server announced, RFC822.SIZE). */
  literalLimit?: number;
  /** Each answer that parsed, in the order the server sent them (unsolicited ones and repeats included). */
  onMessage(msg: FetchedMessage): void;
  /** Streams body literals (BODY[]) here rather than into memory. */
  bodySink?: () => LiteralSink;
  /** A NO is an error too (a partial answer would not do: the destination's inspection, the mirror's flag changes). */
  whole?: boolean;
  /** Other untagged answers of this command to keep (VANISHED). */
  collect?: { match: RegExp; into: UntaggedAnswer[] };
}

export const LISTING_ITEMS = '(UID RFC822.SIZE INTERNALDATE FLAGS)';
/** The listing with each message's header: enough to recognise a message under a new UIDVALIDITY without its body. */
export const LISTING_WITH_HEADER_ITEMS = '(UID RFC822.SIZE INTERNALDATE FLAGS BODY.PEEK[HEADER])';
export const BODY_ITEMS = '(UID RFC822.SIZE INTERNALDATE FLAGS BODY.PEEK[])';

const KEPT_LINES = 256;
const EMPTY = Buffer.alloc(0);
const LITERAL_AT_END = /(~?)\{(\d{1,12})\+?\}$/;
const BODY_BEFORE_LITERAL = /(?:BODY\[\]|BINARY\[\]|RFC822)(?:<\d+>)? ~?\{\d+\+?\}$/i;

/** An untagged answer as read: its text parts with the literals between them. */
export interface UntaggedAnswer { parts: string[]; literals: Array<Buffer | null> }

interface Pending {
  tag: string; resolve(response: TaggedResponse): void; reject(err: Error): void; fetch?: FetchOptions; search?: number[];
  collect?: { match: RegExp; into: UntaggedAnswer[] };
}

/**
 * The source side's reader: EXAMINE, UID FETCH and UID SEARCH on a connection of our own, the way
 * the PipelinedAppender is our own APPEND writer. imapflow builds a log line for every server
 * response and parses FETCH answers token by token into objects; on a full copy that was most of
 * the client's CPU (README: Client CPU). Here a body literal is copied once, into a buffer of its
 * announced size or straight into a spool file, and a FETCH line is read by a small tokenizer.
 *
 * What a hostile server sends stays bounded and accounted for, as with imapflow's guard (issue
 * #11): lines up to 1 MB, literals up to the command's limit, in-memory bytes per answer up to
 * twice that; a tagged answer to a command never sent, or a limit crossed, is a protocol error that
 * ends the connection; a FETCH line that does not parse is kept (the last 256) so the pass can name
 * the message it could not read, and the connection goes on.
 */
export class FetchReader {
  mailbox: MailboxState = { exists: 0, uidNext: 0, uidValidity: '0' };
  private tagCounter = 0;
  private readonly pending: Pending[] = [];
  private failure?: Error;
  private bye?: string;
  private unparsed: string[] = [];
  private selected = false;
  /** SELECTs, EXAMINEs and deselects sent so far: an answer to an older one does not select anything. */
  private openings = 0;
  // The answer being read: its text parts (a literal sits between two), its literals, its size.
  private parts: string[] = [];
  private literals: Array<Buffer | null> = [];
  private textBytes = 0;
  private memoryBytes = 0;
  private partialLine: Buffer[] = [];
  private literal?: { remaining: number; buffer?: Buffer; offset: number; sink?: LiteralSink };
  private lineLimit = LINE_LIMIT;
  private literalLimit = LITERAL_LIMIT;

  private readonly handlers: Record<'timeout' | 'data' | 'error' | 'close', (arg?: never) => void>;

  private constructor(private readonly socket: net.Socket, private readonly host: string, private readonly stallMs: number, readonly capabilities: ReadonlySet<string> = new Set()) {
    socket.setTimeout(0);
    this.handlers = {
      timeout: () => {
        if (this.pending.length) this.fail(Object.assign(new Error(`${host}: no answer within ${Math.round(stallMs / 1000)} s`), { code: 'ETIMEOUT' }));
      },
      data: (chunk?: Buffer) => this.receive(chunk!),
      error: (err?: Error) => this.fail(err!),
      close: () => this.fail(this.connectionError(this.bye ? `the server said ${this.bye}` : 'connection closed')),
    };
    for (const [event, handler] of Object.entries(this.handlers)) socket.on(event, handler);
  }

  /** Reads on a logged-in connection lent by its owner (PipelinedAppender.lend); `detach` gives it back. */
  static borrow(socket: net.Socket, host: string, stallMs: number, capabilities?: ReadonlySet<string>): FetchReader {
    return new FetchReader(socket, host, stallMs, capabilities);
  }

  /** `work` on an appender's idle connection, read by a FetchReader; the appender listens to it again afterwards. */
  static over<T>(appender: PipelinedAppender, host: string, stallMs: number, work: (reader: FetchReader) => Promise<T>): Promise<T> {
    return appender.lend(async (socket) => {
      const reader = FetchReader.borrow(socket, host, stallMs, appender.capabilities);
      try {
        return await work(reader);
      } finally {
        reader.detach();
      }
    });
  }

  /** Stops reading the connection (no command may be running): its owner listens to it again. */
  detach(): void {
    for (const [event, handler] of Object.entries(this.handlers)) this.socket.off(event, handler);
    this.socket.setTimeout(0);
    if (this.socket.isPaused()) this.socket.resume();
  }

  /** Logs in the way the appender does (TLS, STARTTLS, SASL, OAuth2), then takes the connection over. */
  static async connect(endpoint: ImapEndpoint, opts: AppenderOptions = {}): Promise<FetchReader> {
    const session = await PipelinedAppender.connect(endpoint, opts);
    return new FetchReader(session.handOver(), endpoint.host, opts.stallMs ?? APPENDER_STALL_MS, session.capabilities);
  }

  get usable(): boolean {
    return !this.failure && !this.socket.destroyed;
  }

  close(): void {
    this.socket.destroy();
  }

  /**
   * LOGOUT, then close: the server ends the session before this returns, so its per-user connection
   * count is free again at once. With `holdProcess: false` the connection no longer keeps the
   * process alive once the LOGOUT is sent: a one-shot copy exits without waiting a round trip for
   * the answer (the server ends the session when it reads the LOGOUT, answered or not).
   */
  async logout(opts: { holdProcess?: boolean } = {}): Promise<void> {
    if (this.usable) {
      const bye = this.command('LOGOUT').catch(() => undefined);
      if (opts.holdProcess === false) this.socket.unref();
      await Promise.race([bye, new Promise((resolve) => setTimeout(resolve, 2_000).unref())]);
    }
    this.close();
  }

  /** Lines that did not parse since the last call (at most the last 256), as the server sent them (literals as {n}). */
  takeUnparsedLines(): string[] {
    return this.unparsed.splice(0);
  }

  /** EXAMINE: the folder, read-only; what it holds is then in `mailbox`. */
  examine(path: string): Promise<MailboxState> {
    return this.open('EXAMINE', path);
  }

  /**
   * SELECT: the folder, read-write (under EXAMINE servers answer PERMANENTFLAGS () and a flag
   * check would be blind); what it holds, and the flags it keeps, are then in `mailbox`.
   */
  select(path: string): Promise<MailboxState> {
    return this.open('SELECT', path);
  }

  // The command goes out before the first await: callers pipeline what follows it.
  private async open(verb: 'EXAMINE' | 'SELECT', path: string): Promise<MailboxState> {
    this.mailbox = { exists: 0, uidNext: 0, uidValidity: '0' };
    this.selected = false;
    const opening = ++this.openings;
    const done = await this.command(`${verb} ${quoted(encodeMailboxName(path))}`);
    if (done.status !== 'OK') throw commandError(done);
    // A deselect sent right behind it (an inspection in one round trip) has the last word.
    if (opening === this.openings) this.selected = true;
    return this.mailbox;
  }

  /**
   * Leaves the connection with no folder selected, never expunging: CLOSE on a read-write
   * selection would remove the folder's \Deleted messages. UNSELECT (RFC 3691) where offered;
   * otherwise EXAMINE first makes the CLOSE a plain deselect (RFC 3501 6.4.2), both sent at once.
   * `path` is the folder selected. Refusals are not errors: a lost connection is.
   */
  async deselect(path: string): Promise<void> {
    this.selected = false;
    this.openings++;
    if (this.capabilities.has('UNSELECT')) {
      await this.command('UNSELECT');
      return;
    }
    await Promise.all([this.command(`EXAMINE ${quoted(encodeMailboxName(path))}`), this.command('CLOSE')]);
  }

  /** UID FETCH of `range` with `items`; answers go to `opts.onMessage` as they arrive. A NO is a partial answer, not an error (the caller accounts for what came). */
  async fetch(range: string, items: string, opts: FetchOptions): Promise<void> {
    const done = await this.command(`UID FETCH ${range} ${items}`, { fetch: opts, collect: opts.collect }, { literal: opts.literalLimit });
    // A NO that says "later" (Exchange's throttling) is not a partial answer: the lane waits it out and resumes.
    if (done.status === 'BAD' || (done.status === 'NO' && (opts.whole || isThrottle(commandError(done))))) throw commandError(done);
  }

  /** ENABLE (RFC 5161, before any folder is opened): whether the server turned `extension` on. */
  async enable(extension: string): Promise<boolean> {
    const [answer] = await this.exchange([`ENABLE ${extension}`], /^\* ENABLED\b/i);
    return answer!.response.status === 'OK' && answer!.untagged.some((u) => u.parts[0]!.toUpperCase().split(' ').includes(extension.toUpperCase()));
  }

  /** UID SEARCH UID `range`: the UIDs the server names there. */
  async searchUids(range: string, lineLimit: number): Promise<number[]> {
    const search: number[] = [];
    const done = await this.command(`UID SEARCH UID ${range}`, { search }, { line: lineLimit });
    if (done.status !== 'OK') throw commandError(done);
    return search;
  }

  /**
   * STATUS of every folder, all sent at once (one round trip); `names` as the server listed them.
   * A folder the server refuses is left out of the answer.
   */
  async statuses(names: string[]): Promise<Map<string, Record<string, number>>> {
    const answers = await this.exchange(names.map((name) => `STATUS ${quoted(name)} (MESSAGES UIDNEXT UIDVALIDITY)`), /^\* STATUS /i);
    // A server may run commands that change nothing side by side (RFC 3501 5.5), so an answer goes
    // by the name it carries, not by the command that was running when it came.
    const byName = new Map<string, Record<string, number>>();
    for (const { untagged } of answers) {
      for (const answer of untagged) {
        const name = statusMailbox(answer);
        if (name !== undefined) byName.set(mailboxKey(name), { ...byName.get(mailboxKey(name)), ...statusItems(answer.parts[answer.parts.length - 1]!) });
      }
    }
    const out = new Map<string, Record<string, number>>();
    answers.forEach(({ response }, i) => {
      const status = byName.get(mailboxKey(names[i]!));
      if (response.status === 'OK' && status && Object.keys(status).length) out.set(names[i]!, status);
    });
    return out;
  }

  /**
   * Commands sent at once (one round trip), each answered with its tagged response and the
   * untagged answers that `match` while it ran (a server answers pipelined commands in order).
   */
  async exchange(commands: string[], match?: RegExp): Promise<Array<{ response: TaggedResponse; untagged: UntaggedAnswer[] }>> {
    return Promise.all(commands.map(async (text) => {
      const into: UntaggedAnswer[] = [];
      const response = await this.command(text, match ? { collect: { match, into } } : {});
      return { response, untagged: into };
    }));
  }

  private command(text: string, extra: Partial<Pending> = {}, limits: { line?: number; literal?: number } = {}): Promise<TaggedResponse> {
    if (this.failure) return Promise.reject(this.failure);
    const tag = `F${++this.tagCounter}`;
    this.lineLimit = Math.ceil(limits.line ?? LINE_LIMIT);
    this.literalLimit = Math.ceil(limits.literal ?? LITERAL_LIMIT);
    return new Promise<TaggedResponse>((resolve, reject) => {
      this.pending.push({ tag, resolve, reject, ...extra });
      this.socket.setTimeout(this.stallMs);
      this.socket.write(`${tag} ${text}\r\n`);
    }).finally(() => {
      this.lineLimit = LINE_LIMIT;
      this.literalLimit = LITERAL_LIMIT;
    });
  }

  // ---- reading: bytes → answers ----

  private receive(data: Buffer): void {
    let pos = 0;
    while (pos < data.length && !this.failure) {
      if (this.literal) {
        pos = this.takeLiteral(data, pos);
        continue;
      }
      const lf = data.indexOf(10, pos);
      if (lf === -1) {
        this.textBytes += data.length - pos;
        if (this.textBytes > this.lineLimit) return this.lineTooLong();
        this.partialLine.push(data.subarray(pos));
        return;
      }
      let line = data.subarray(pos, lf);
      pos = lf + 1;
      this.textBytes += line.length;
      if (this.textBytes > this.lineLimit) return this.lineTooLong();
      if (this.partialLine.length) {
        line = Buffer.concat([...this.partialLine, line]);
        this.partialLine = [];
      }
      // RFC 3501 lines end in CRLF; a bare LF is taken too (GNU imap4d ends some replies so).
      const text = line.toString('latin1', 0, line.length && line[line.length - 1] === 13 ? line.length - 1 : line.length);
      const marker = LITERAL_AT_END.exec(text);
      this.parts.push(text);
      if (!marker) {
        this.answer();
        continue;
      }
      const size = Number(marker[2]);
      if (size > this.literalLimit) return this.protocolFault(`a literal of ${size} bytes, over the ${this.literalLimit}-byte limit`);
      const sink = this.sinkFor(text);
      if (!sink) {
        this.memoryBytes += size;
        if (this.memoryBytes > 2 * this.literalLimit + this.lineLimit) return this.protocolFault(`an answer over ${2 * this.literalLimit + this.lineLimit} bytes`);
      }
      this.literal = { remaining: size, offset: 0, sink, buffer: sink ? undefined : Buffer.allocUnsafe(size) };
      if (size === 0) this.endLiteral();
    }
  }

  private sinkFor(text: string): LiteralSink | undefined {
    const fetch = this.pending[0]?.fetch;
    return fetch?.bodySink && BODY_BEFORE_LITERAL.test(text) ? fetch.bodySink() : undefined;
  }

  private takeLiteral(data: Buffer, pos: number): number {
    const literal = this.literal!;
    const n = Math.min(literal.remaining, data.length - pos);
    if (literal.buffer) {
      data.copy(literal.buffer, literal.offset, pos, pos + n);
    } else if (!literal.sink!.write(data.subarray(pos, pos + n))) {
      // The file is slower than the network: stop reading until it has caught up.
      this.socket.pause();
      literal.sink!.onDrain(() => this.socket.resume());
    }
    literal.offset += n;
    literal.remaining -= n;
    if (literal.remaining === 0) this.endLiteral();
    return pos + n;
  }

  private endLiteral(): void {
    this.literals.push(this.literal!.buffer ?? null);
    this.literal = undefined;
  }

  private answer(): void {
    const parts = this.parts;
    const literals = this.literals;
    this.parts = [];
    this.literals = [];
    this.textBytes = 0;
    this.memoryBytes = 0;
    const first = parts[0]!;
    if (first.startsWith('* ')) return this.untagged(parts, literals);
    if (first.startsWith('+')) return;
    const tagged = parseTagged(first);
    // A server may end a command before the one sent ahead of it when neither changes what the
    // other reads (RFC 3501 5.5; Dovecot does): taken only for a command whose whole answer is its
    // tagged line (a STORE .SILENT), since untagged answers go to the command in front.
    const at = tagged ? this.pending.findIndex((p) => p.tag === tagged.tag) : -1;
    const waiting = this.pending[at];
    if (!tagged || !waiting || (at > 0 && (waiting.fetch || waiting.search || waiting.collect))) return this.protocolFault(`unexpected reply ${JSON.stringify(first.slice(0, 200))}`);
    this.pending.splice(at, 1);
    if (!this.pending.length) this.socket.setTimeout(0);
    // A sink that was still flushing when the command ended may never say so (it is closed next):
    // the connection must not stay paused for the next command.
    if (this.socket.isPaused()) this.socket.resume();
    waiting.resolve(tagged);
  }

  private untagged(parts: string[], literals: Array<Buffer | null>): void {
    const first = parts[0]!;
    const numbered = /^\* (\d+) (\w+)/.exec(first);
    if (numbered) {
      const n = Number(numbered[1]);
      switch (numbered[2]!.toUpperCase()) {
        case 'FETCH': return this.fetched(n, parts, literals);
        case 'EXISTS': this.mailbox.exists = n; return;
        case 'EXPUNGE': if (this.selected) this.mailbox.exists = Math.max(0, this.mailbox.exists - 1); return;
        default: return;
      }
    }
    // With QRESYNC on, expunges come as VANISHED (RFC 7162 3.2.10); VANISHED (EARLIER) answers a FETCH and removes nothing now.
    const vanished = /^\* VANISHED (?!\(EARLIER\))([\d:,]+)\s*$/i.exec(first);
    if (vanished) {
      if (this.selected) this.mailbox.exists = Math.max(0, this.mailbox.exists - uidCount(vanished[1]!, this.mailbox.exists));
      return;
    }
    const collect = this.pending[0]?.collect;
    if (collect?.match.test(first)) {
      collect.into.push({ parts, literals });
      return;
    }
    const permanent = /^\* OK \[PERMANENTFLAGS \(([^()]*)\)\]/i.exec(first);
    if (permanent) {
      this.mailbox.permanentFlags = new Set(permanent[1]!.split(' ').filter(Boolean));
      return;
    }
    const code = /^\* OK \[(UIDVALIDITY|UIDNEXT) (\d+)\]/i.exec(first);
    if (code) {
      if (code[1]!.toUpperCase() === 'UIDNEXT') this.mailbox.uidNext = Number(code[2]);
      else this.mailbox.uidValidity = code[2]!;
      return;
    }
    if (/^\* SEARCH\b/i.test(first)) {
      const into = this.pending[0]?.search;
      if (into) for (const word of first.slice(8).split(' ')) if (word) into.push(Number(word));
      return;
    }
    if (/^\* BYE\b/i.test(first)) this.bye = first.slice(2, 202);
  }

  private fetched(seq: number, parts: string[], literals: Array<Buffer | null>): void {
    const fetch = this.pending[0]?.fetch;
    if (!fetch) return;
    let msg: FetchedMessage;
    try {
      msg = parseFetch(seq, parts, literals);
    } catch {
      // Not a message this pass can use; the line says which one it was about.
      this.unparsed.push(parts.join('\r\n'));
      if (this.unparsed.length > KEPT_LINES) this.unparsed.shift();
      return;
    }
    fetch.onMessage(msg);
  }

  // ---- failing ----

  private lineTooLong(): void {
    this.protocolFault(`a line longer than the ${this.lineLimit}-byte limit`);
  }

  private protocolFault(detail: string): void {
    this.fail(new CutoverError('IMAP_PROTOCOL', { host: this.host, detail }));
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    for (const waiting of this.pending.splice(0)) waiting.reject(err);
    this.socket.destroy();
  }

  private connectionError(detail: string): Error {
    return Object.assign(new Error(`${this.host}: ${detail}`), { code: 'NoConnection' });
  }
}

/** The tagged answer as the error imapflow would have thrown: the lane's retry and error mapping read these fields. */
export function commandError(done: TaggedResponse): Error {
  return Object.assign(new Error(`${done.status} ${done.text}`.trim()), { responseStatus: done.status, responseText: done.text, serverResponseCode: done.code?.split(' ')[0]?.toUpperCase() });
}

/** How many UIDs a set names, counted up to `limit` (a hostile "1:4294967295" is not walked). */
function uidCount(set: string, limit: number): number {
  let n = 0;
  for (const [low, high] of uidRanges(set) ?? []) n = Math.min(limit, n + high - low + 1);
  return n;
}

/** The folder a `* STATUS` answer is about, as the server wrote it (atom, quoted or literal). */
function statusMailbox(answer: UntaggedAnswer): string | undefined {
  try {
    const token = new Tokens([answer.parts[0]!.replace(/^\* STATUS /i, ''), ...answer.parts.slice(1)], answer.literals).next();
    if (typeof token === 'string') return token;
    if (token && typeof token === 'object' && 'quoted' in token) return token.quoted;
    if (token && typeof token === 'object' && 'literal' in token && token.literal) return token.literal.toString('latin1');
  } catch {
    // Not a name: the folder is asked again on its own.
  }
  return undefined;
}

const mailboxKey = (name: string): string => (/^inbox$/i.test(name) ? 'INBOX' : name);

/** `* STATUS name (MESSAGES 3 UIDNEXT 9 …)`: the items, by name. */
function statusItems(line: string): Record<string, number> {
  const list = /\(([^()]*)\)\s*$/.exec(line)?.[1] ?? '';
  const items: Record<string, number> = {};
  const words = list.trim().split(/\s+/);
  for (let i = 0; i + 1 < words.length; i += 2) items[words[i]!.toUpperCase()] = Number(words[i + 1]);
  return items;
}

// ---- one FETCH answer ----

export type Token = string | { quoted: string } | { literal: Buffer | null } | '(' | ')' | null;

/** The tokens of one answer: atoms, quoted strings, literals (in place of their {n}), parentheses, NIL as null. */
export class Tokens {
  private part = 0;
  private i = 0;
  private text: string;

  constructor(private readonly parts: string[], private readonly literals: Array<Buffer | null>) {
    this.text = stripMarker(parts[0]!, parts.length > 1);
  }

  next(): Token | undefined {
    for (;;) {
      while (this.text.charCodeAt(this.i) === 32) this.i++;
      if (this.i < this.text.length) break;
      if (this.part + 1 >= this.parts.length) return undefined;
      const literal = this.literals[this.part]!;
      this.part++;
      this.text = stripMarker(this.parts[this.part]!, this.part + 1 < this.parts.length);
      this.i = 0;
      return { literal };
    }
    const c = this.text[this.i]!;
    if (c === '(' || c === ')') { this.i++; return c; }
    if (c === '"') return { quoted: this.quoted() };
    return this.atom();
  }

  // Slices rather than character loops: without TurboFan (server/bin.mjs) a loop per character was
  // the FETCH reader's largest cost; indexOf and a sticky regex run natively either way.
  private quoted(): string {
    const close = this.text.indexOf('"', this.i + 1);
    const escape = this.text.indexOf('\\', this.i + 1);
    if (close !== -1 && (escape === -1 || escape > close)) {
      const out = this.text.slice(this.i + 1, close);
      this.i = close + 1;
      return out;
    }
    let out = '';
    for (let i = this.i + 1; i < this.text.length; i++) {
      const c = this.text[i]!;
      if (c === '\\') { out += this.text[++i] ?? ''; continue; }
      if (c === '"') { this.i = i + 1; return out; }
      out += c;
    }
    throw new Error('unterminated quoted string');
  }

  // An atom, with a section in brackets (BODY[HEADER.FIELDS (A B)]) and a partial (<0>) kept whole.
  private atom(): string | null {
    const start = this.i;
    let i = this.i;
    for (;;) {
      ATOM_RUN.lastIndex = i;
      ATOM_RUN.test(this.text);
      i = ATOM_RUN.lastIndex;
      if (this.text.charCodeAt(i) !== 91) break;
      const close = this.text.indexOf(']', i);
      if (close === -1) throw new Error('unterminated section');
      i = close + 1;
    }
    const stop = this.text.charCodeAt(i);
    if (i < this.text.length && stop !== 32 && stop !== 40 && stop !== 41) throw new Error(`${JSON.stringify(this.text[i])} in an atom`);
    if (i === start) throw new Error('empty atom');
    this.i = i;
    const atom = this.text.slice(start, i);
    return atom === 'NIL' ? null : atom;
  }
}

/** Atom characters up to a space, a parenthesis, a section's "[" or a character no atom holds (controls, DEL, '"', "{", "%"). */
const ATOM_RUN = /[^\x00-\x20()\x7f"{%[]*/y;

// The {n} that announced a literal is not a token: the literal comes in its place.
function stripMarker(text: string, literalFollows: boolean): string {
  return literalFollows ? text.replace(LITERAL_AT_END, '') : text;
}

const MONTHS: Record<string, number> = { JAN: 0, FEB: 1, MAR: 2, APR: 3, MAY: 4, JUN: 5, JUL: 6, AUG: 7, SEP: 8, OCT: 9, NOV: 10, DEC: 11 };
const DATE_TIME = /^ ?(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/;

/** RFC 3501 date-time ("17-Jul-1996 02:44:25 -0700"); anything else is not a date the copy can keep. */
export function parseDateTime(text: string): Date {
  const m = DATE_TIME.exec(text);
  const month = m ? MONTHS[m[2]!.toUpperCase()] : undefined;
  if (!m || month === undefined) throw new Error(`bad date-time ${text}`);
  const offset = (m[7] === '-' ? -1 : 1) * (Number(m[8]) * 60 + Number(m[9])) * 60_000;
  return new Date(Date.UTC(Number(m[3]), month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6])) - offset);
}

const NUMBER = /^\d{1,20}$/;
// A flag is an atom, or a backslash and an atom (RFC 3501 flag-keyword / flag-extension).
const FLAG = /^\\?[^\\]+$/;

function number(token: Token | undefined): number {
  if (typeof token !== 'string' || !NUMBER.test(token)) throw new Error('number expected');
  return Number(token);
}

function skipValue(tokens: Tokens, token: Token | undefined): void {
  if (token === undefined || token === ')') throw new Error('value expected');
  if (token !== '(') return;
  for (let depth = 1; depth > 0;) {
    const next = tokens.next();
    if (next === undefined) throw new Error('unterminated list');
    if (next === '(') depth++;
    else if (next === ')') depth--;
  }
}

export function parseFetch(seq: number, parts: string[], literals: Array<Buffer | null>): FetchedMessage {
  const head = /^\* \d+ FETCH /i.exec(parts[0]!)!;
  const tokens = new Tokens([parts[0]!.slice(head[0].length), ...parts.slice(1)], literals);
  const msg: FetchedMessage = { seq, hadBody: false };
  if (tokens.next() !== '(') throw new Error('( expected');
  for (;;) {
    const key = tokens.next();
    if (key === ')') break;
    if (typeof key !== 'string') throw new Error('item name expected');
    const name = key.toUpperCase();
    const value = tokens.next();
    if (name === 'UID') msg.uid = number(value);
    else if (name === 'RFC822.SIZE') msg.size = number(value);
    else if (name === 'INTERNALDATE') {
      if (!value || typeof value !== 'object' || !('quoted' in value)) throw new Error('quoted date expected');
      msg.internalDate = parseDateTime(value.quoted);
    } else if (name === 'FLAGS') {
      if (value !== '(') throw new Error('flag list expected');
      const flags = new Set<string>();
      for (let flag = tokens.next(); flag !== ')'; flag = tokens.next()) {
        if (typeof flag !== 'string' || !FLAG.test(flag)) throw new Error('flag expected');
        flags.add(flag);
      }
      msg.flags = flags;
    } else if (name === 'BODY[]' || name === 'BINARY[]' || name === 'RFC822' || /^BODY\[\]<\d+>$/.test(name)) {
      msg.hadBody = true;
      if (value && typeof value === 'object' && 'literal' in value) { if (value.literal) msg.source = value.literal; }
      else if (value && typeof value === 'object' && 'quoted' in value) msg.source = Buffer.from(value.quoted, 'latin1');
      else if (value !== null) throw new Error('body expected');
    } else if (name === 'BODY[HEADER]') {
      if (value && typeof value === 'object' && 'literal' in value) { if (value.literal) msg.header = value.literal; }
      else if (value && typeof value === 'object' && 'quoted' in value) msg.header = Buffer.from(value.quoted, 'latin1');
      else if (value !== null) throw new Error('header expected');
    } else {
      skipValue(tokens, value);
    }
  }
  if (tokens.next() !== undefined) throw new Error('text after the FETCH answer');
  return msg;
}
