import { createReadStream } from 'node:fs';
import net from 'node:net';
import { CutoverError } from '../../errors.ts';
import type { ImapEndpoint } from '../../plugins/contract.ts';
import { encodeMailboxName } from './mutf7.ts';
import { appendedUids, imapDateTime, parseTagged, quoted, type TaggedResponse } from './syntax.ts';
import { currentAccessToken, usesAccessToken } from '../oauth2/endpoint.ts';
import { DEFAULT_STALL_SECONDS, uploadAllowanceMs } from '../guard.ts';
import { isThrottle } from '../transient.ts';

import type { SpooledMessage } from '../spool.ts';

/** The message itself, in memory or spooled to a file (large messages). */
export interface AppendItem { content: Buffer | SpooledMessage; flags: string[]; internalDate?: Date }

export type AppendOutcome =
  | { ok: true; uids: Array<number | null> }
  | { ok: false; status: 'NO' | 'BAD'; code?: string; text: string };

/** A destination that sends nothing for this long while an answer is due is given up on (the lane reconnects). */
export const APPENDER_STALL_MS = DEFAULT_STALL_SECONDS * 1000;
const MAX_LINE_BYTES = 64 * 1024;

export interface AppenderOptions {
  stallMs?: number;
  /** Aborted when the pass has failed: a login still under way is given up at once. */
  signal?: AbortSignal;
}

/**
 * A destination connection that does one thing fast: APPEND. Messages go out as non-synchronising
 * literals (LITERAL+), many per command (MULTIAPPEND), so neither the client nor the server waits
 * on a round trip per message, and Dovecot stores a whole batch in one transaction. imapflow 2.1.2
 * sends one synchronising APPEND at a time (see the README's benchmark notes for the figures).
 */
export class PipelinedAppender {
  private buffer: Buffer = Buffer.alloc(0);
  private readonly waiters: Array<{ resolve: (line: string) => void; reject: (err: Error) => void }> = [];
  private readonly lines: string[] = [];
  private failure?: Error;
  private tagCounter = 0;
  /** Added to the stall timeout while the answer to an upload is owed (see uploadAllowanceMs). */
  private allowanceMs = 0;
  capabilities = new Set<string>();
  /** Called whenever bytes move (a chunk of a message taken by the kernel, a line received): a slow upload is not a stall. */
  onActivity?: () => void;

  private constructor(private socket: net.Socket, private readonly host: string, private readonly stallMs: number) {
    this.listen(socket);
  }

  static async connect(endpoint: ImapEndpoint, opts: AppenderOptions = {}): Promise<PipelinedAppender> {
    const socket = await openSocket(endpoint);
    const session = new PipelinedAppender(socket, endpoint.host, opts.stallMs ?? APPENDER_STALL_MS);
    const giveUp = () => session.close();
    opts.signal?.addEventListener('abort', giveUp);
    try {
      if (opts.signal?.aborted) throw opts.signal.reason;
      await session.handshake(endpoint);
      return session;
    } catch (err) {
      session.close();
      throw err;
    } finally {
      opts.signal?.removeEventListener('abort', giveUp);
    }
  }

  /** True when batches can go out without waiting for continuation requests. */
  get pipelines(): boolean {
    return this.capabilities.has('LITERAL+') && this.capabilities.has('MULTIAPPEND');
  }

  get usable(): boolean {
    return !this.failure && !this.socket.destroyed;
  }

  /** One APPEND command carrying every item; the server stores all of them or none. */
  async append(folder: string, items: AppendItem[]): Promise<AppendOutcome> {
    return (await this.sendAppend(folder, items)).outcome;
  }

  /**
   * Writes one APPEND and returns once it is sent, with its answer still to come: the next
   * APPEND can go out meanwhile, so a lane never waits a round trip between two batches.
   * Answers are read in the order the commands were sent.
   */
  async sendAppend(folder: string, items: AppendItem[]): Promise<{ outcome: Promise<AppendOutcome> }> {
    // While the upload is under way and its answer owed, the silence allowed grows with its size.
    const allowance = uploadAllowanceMs(items.reduce((n, item) => n + (Buffer.isBuffer(item.content) ? item.content.length : item.content.size), 0));
    this.allowanceMs += allowance;
    const { answer } = await this.inTurn(() => this.writeAppend(folder, items), (tag) => this.tagged(tag).finally(() => { this.allowanceMs -= allowance; }))
      .catch((err: unknown) => { this.allowanceMs -= allowance; throw err; });
    const outcome = answer.then((response): AppendOutcome => {
      if (response.status !== 'OK') return { ok: false, status: response.status, code: response.code, text: response.text };
      const assigned = appendedUids(response.code, items.length)?.uids ?? [];
      return { ok: true, uids: items.map((_, i) => (assigned.length === items.length ? assigned[i]! : null)) };
    });
    outcome.catch(() => undefined); // the caller awaits it; a failure meanwhile must not go unhandled
    return { outcome };
  }

  /**
   * EXAMINE `folder` and `UID FETCH fromUid:* (UID RFC822.SIZE INTERNALDATE FLAGS)`, written behind
   * the APPENDs already sent and read after their answers: what a lane appended is read back
   * without a round trip of its own. `lines`: the FETCH answers as the server sent them (at most
   * `maxLines`), or undefined when either command is refused.
   */
  async sendListing(folder: string, fromUid: number, maxLines: number): Promise<{ lines: Promise<string[] | undefined> }> {
    const [examine, fetch] = [this.nextTag(), this.nextTag()];
    const { answer } = await this.inTurn(() => this.write([Buffer.from(`${examine} EXAMINE ${quoted(encodeMailboxName(folder))}\r\n${fetch} UID FETCH ${fromUid}:* (UID RFC822.SIZE INTERNALDATE FLAGS)\r\n`)]), async () => {
      const found: string[] = [];
      let examined = false;
      for (;;) {
        const line = await this.line();
        const response = parseTagged(line);
        if (response?.tag === examine) examined = response.status === 'OK';
        else if (response?.tag === fetch) return examined && response.status === 'OK' ? found : undefined;
        else if (line.startsWith('* BYE')) throw this.connectionError(line);
        else if (/^\* \d+ FETCH /i.test(line)) { if (found.length < maxLines) found.push(line); }
        else if (!line.startsWith('* ')) throw this.protocolError(line);
      }
    });
    return { lines: answer };
  }

  private sending: Promise<unknown> = Promise.resolve();
  private reading: Promise<unknown> = Promise.resolve();

  /**
   * Writes once everything sent before is written, and reads its answer once theirs are read:
   * commands go out without waiting, answers are taken in order. Resolves once written.
   */
  private async inTurn<W, R>(write: () => Promise<W>, read: (written: W) => Promise<R>): Promise<{ answer: Promise<R> }> {
    const sending = this.sending.then(write);
    this.sending = sending.then(() => undefined, () => undefined);
    const written = await sending;
    const answer = this.reading.then(() => read(written));
    this.reading = answer.then(() => undefined, () => undefined);
    answer.catch(() => undefined); // the caller awaits it; a failure meanwhile must not go unhandled
    return { answer };
  }

  private async writeAppend(folder: string, items: AppendItem[]): Promise<string> {
    const tag = this.nextTag();
    // In-memory messages go out together with the command text around them, in one write call per
    // run of them (one writev, not three writes and three awaits per message); a spooled one streams.
    let parts: Buffer[] = [Buffer.from(`${tag} APPEND ${quoted(encodeMailboxName(folder))}`)];
    for (const item of items) {
      const size = Buffer.isBuffer(item.content) ? item.content.length : item.content.size;
      const hasNul = Buffer.isBuffer(item.content) ? item.content.includes(0) : item.content.hasNul;
      const date = item.internalDate ? ` ${imapDateTime(item.internalDate)}` : '';
      // literal8 (~{n+}) only where the content holds a NUL byte, as RFC 3516 requires.
      const binary = this.capabilities.has('BINARY') && hasNul ? '~' : '';
      parts.push(Buffer.from(` (${item.flags.join(' ')})${date} ${binary}{${size}+}\r\n`));
      if (Buffer.isBuffer(item.content)) { parts.push(item.content); continue; }
      await this.write(parts);
      parts = [];
      for await (const chunk of createReadStream(item.content.path, { highWaterMark: 1024 * 1024 })) await this.write([chunk as Buffer]);
    }
    parts.push(Buffer.from('\r\n'));
    await this.write(parts);
    return tag;
  }

  /**
   * Commands without literals written at once (pipelined, RFC 3501 5.5): one round trip for all
   * of them. `answered` hears each tagged answer as it arrives, in order, so work that waits on
   * one command can start before the last is answered.
   */
  async pipeline(commands: string[], answered: (index: number, response: TaggedResponse) => void): Promise<void> {
    const tags = commands.map(() => this.nextTag());
    await this.write([Buffer.from(commands.map((command, i) => `${tags[i]} ${command}\r\n`).join(''))]);
    for (const [i, tag] of tags.entries()) answered(i, await this.tagged(tag));
  }

  close(): void {
    this.socket.destroy();
  }

  /** Lends the logged-in, idle connection to `work` (a FetchReader reading back what was appended), then listens to it again. */
  async lend<T>(work: (socket: net.Socket) => Promise<T>): Promise<T> {
    const socket = this.socket;
    for (const event of ['data', 'error', 'close', 'timeout']) socket.removeAllListeners(event);
    try {
      return await work(socket);
    } finally {
      if (socket.destroyed) this.failure ??= this.connectionError('connection closed');
      else this.listen(socket);
    }
  }

  /** Gives the logged-in connection to another reader (the source's FetchReader); this session is done with it. */
  handOver(): net.Socket {
    const socket = this.socket;
    for (const event of ['data', 'error', 'close', 'timeout']) socket.removeAllListeners(event);
    socket.setTimeout(0);
    this.failure = this.connectionError('handed over');
    return socket;
  }

  private nextTag(): string {
    this.tagCounter += 1;
    return `A${this.tagCounter}`;
  }

  private async handshake(endpoint: ImapEndpoint): Promise<void> {
    const greeting = await this.line();
    if (!greeting.startsWith('* OK') && !greeting.startsWith('* PREAUTH')) throw this.connectionError(`unexpected greeting: ${greeting.slice(0, 200)}`);
    await this.refreshCapabilities(greeting);
    if (endpoint.security === 'starttls' || endpoint.security === 'starttls-optional') {
      if (this.capabilities.has('STARTTLS')) {
        await this.command('STARTTLS');
        this.socket = await upgrade(this.socket, endpoint);
        this.listen(this.socket);
        await this.refreshCapabilities();
      } else if (endpoint.security === 'starttls') {
        throw new CutoverError('TLS_FAILED', { host: endpoint.host, detail: 'the server does not offer STARTTLS' });
      }
    }
    // Most servers give their new capabilities in the login's OK (RFC 3501 7.1): no CAPABILITY round trip then.
    const loggedIn = greeting.startsWith('* PREAUTH') ? undefined : await this.login(endpoint);
    await this.refreshCapabilities(loggedIn?.code ? `[${loggedIn.code}]` : undefined);
  }

  private async login(endpoint: ImapEndpoint): Promise<TaggedResponse> {
    const { user, pass, authzid } = endpoint.auth;
    let response: TaggedResponse;
    if (usesAccessToken(endpoint.auth)) {
      response = await this.tokenLogin(user, await currentAccessToken(endpoint.auth));
    } else if (this.capabilities.has('AUTH=PLAIN')) {
      const tag = await this.authenticate('PLAIN', Buffer.from(`${authzid ?? ''}\0${user}\0${pass}`).toString('base64'));
      response = await this.tagged(tag);
    } else {
      if (authzid) throw new CutoverError('IMAP_FAILED', { host: this.host, command: 'LOGIN', detail: 'the server offers no AUTH=PLAIN, which a master-user login needs' });
      response = await this.commandResponse(`LOGIN ${quoted(user)} ${quoted(pass)}`);
    }
    if (response.status !== 'OK') {
      if (response.code?.toUpperCase() === 'UNAVAILABLE') throw this.connectionError(response.text);
      // Exchange refuses a login it cannot serve now ("Server Unavailable. 15"): "later", not a wrong password.
      const refusal = Object.assign(new Error(`${this.host}: ${response.status} ${response.text}`), { responseText: response.text });
      if (isThrottle(refusal)) throw refusal;
      throw new CutoverError('AUTH_FAILED', { host: this.host });
    }
    return response;
  }

  // XOAUTH2 where offered, else OAUTHBEARER (RFC 7628); RFC 4959 initial response where offered.
  // A refusal comes as a continuation with a JSON error, answered before the tagged NO.
  private async tokenLogin(user: string, token: string): Promise<TaggedResponse> {
    const mechanism = this.capabilities.has('AUTH=XOAUTH2') ? 'XOAUTH2' : this.capabilities.has('AUTH=OAUTHBEARER') ? 'OAUTHBEARER' : undefined;
    if (!mechanism) throw new CutoverError('OAUTH2_LOGIN_REFUSED', { host: this.host, address: user, detail: 'the server offers neither AUTH=XOAUTH2 nor AUTH=OAUTHBEARER' });
    const message = mechanism === 'XOAUTH2'
      ? `user=${user}\x01auth=Bearer ${token}\x01\x01`
      : `n,a=${user},\x01host=${this.host}\x01port=${this.socket.remotePort ?? ''}\x01auth=Bearer ${token}\x01\x01`;
    const payload = Buffer.from(message).toString('base64');
    const breaker = mechanism === 'XOAUTH2' ? '' : 'AQ==';
    const tag = await this.authenticate(mechanism, payload);
    for (;;) {
      const next = await this.line();
      if (next.startsWith('+')) {
        await this.write([Buffer.from(`${breaker}\r\n`)]);
        continue;
      }
      const done = parseTagged(next);
      if (done?.tag === tag) return done;
    }
  }

  /** Sends AUTHENTICATE with its initial response: inline where SASL-IR is offered (RFC 4959), else after the continuation. */
  private async authenticate(mechanism: string, payload: string): Promise<string> {
    const tag = this.nextTag();
    if (this.capabilities.has('SASL-IR')) {
      await this.write([Buffer.from(`${tag} AUTHENTICATE ${mechanism} ${payload}\r\n`)]);
    } else {
      await this.write([Buffer.from(`${tag} AUTHENTICATE ${mechanism}\r\n`)]);
      await this.continuation();
      await this.write([Buffer.from(`${payload}\r\n`)]);
    }
    return tag;
  }

  private async refreshCapabilities(line?: string): Promise<void> {
    const fromLine = line && /\[CAPABILITY ([^\]]+)\]/i.exec(line);
    if (fromLine) {
      this.capabilities = new Set(fromLine[1]!.toUpperCase().split(' '));
      return;
    }
    const tag = this.nextTag();
    await this.write([Buffer.from(`${tag} CAPABILITY\r\n`)]);
    const caps = new Set<string>();
    for (;;) {
      const next = await this.line();
      if (/^\* CAPABILITY /i.test(next)) for (const c of next.slice(13).toUpperCase().split(' ')) caps.add(c);
      const done = parseTagged(next);
      if (done?.tag === tag) break;
    }
    this.capabilities = caps;
  }

  private async command(text: string): Promise<void> {
    const response = await this.commandResponse(text);
    if (response.status !== 'OK') throw new CutoverError('IMAP_FAILED', { host: this.host, command: text.split(' ')[0]!, detail: response.text });
  }

  private async commandResponse(text: string): Promise<TaggedResponse> {
    const tag = this.nextTag();
    await this.write([Buffer.from(`${tag} ${text}\r\n`)]);
    return this.tagged(tag);
  }

  private async tagged(tag: string): Promise<TaggedResponse> {
    for (;;) {
      const line = await this.line();
      const response = parseTagged(line);
      if (response?.tag === tag) return response;
      if (line.startsWith('* BYE')) throw this.connectionError(line);
      if (!response && !line.startsWith('* ') && !line.startsWith('+')) throw this.protocolError(line);
    }
  }

  private async continuation(): Promise<void> {
    for (;;) {
      const line = await this.line();
      if (line.startsWith('+')) return;
      if (parseTagged(line)) throw new CutoverError('IMAP_FAILED', { host: this.host, command: 'AUTHENTICATE', detail: line });
      if (!line.startsWith('* ')) throw this.protocolError(line);
    }
  }

  // A reply that is neither untagged, a continuation nor a tagged status cannot be waited out:
  // failing at once, with the line, beats a copy that hangs until a timeout.
  private protocolError(line: string): CutoverError {
    const err = new CutoverError('IMAP_PROTOCOL', { host: this.host, detail: `unexpected reply ${JSON.stringify(line.slice(0, 200))}` });
    this.fail(err);
    return err;
  }

  private write(parts: Buffer[]): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.failure) { reject(this.failure); return; }
      const socket = this.socket;
      let ok = true;
      if (parts.length > 1) socket.cork();
      for (const part of parts) ok = socket.write(part);
      if (parts.length > 1) socket.uncork();
      if (ok) { resolve(); return; }
      // Wait for the kernel to take the data, so a batch is not held twice in memory. A server
      // that stops reading would leave this waiting for ever: the stall timer runs meanwhile.
      this.draining = true;
      socket.setTimeout(this.stallMs);
      const onDrain = () => { this.draining = false; this.onActivity?.(); if (!this.waiters.length) socket.setTimeout(0); socket.off('close', onClose); resolve(); };
      const onClose = () => { this.draining = false; socket.off('drain', onDrain); reject(this.failure ?? this.connectionError('connection closed')); };
      socket.once('drain', onDrain);
      socket.once('close', onClose);
    });
  }

  private line(): Promise<string> {
    const ready = this.lines.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    if (this.failure) return Promise.reject(this.failure);
    this.socket.setTimeout(this.stallMs + this.allowanceMs);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private listen(socket: net.Socket): void {
    socket.removeAllListeners('data');
    // Armed only while an answer is due, so a connection resting in the pool is not failed.
    socket.setTimeout(0);
    socket.on('timeout', () => {
      if (this.waiters.length || this.draining) {
        const during = this.draining ? 'while sending messages (it stopped reading)' : 'waiting for an answer';
        const seconds = Math.round((this.stallMs + (this.draining ? 0 : this.allowanceMs)) / 1000);
        this.fail(new CutoverError('IMAP_STALLED', { host: this.host, seconds, during }, { retryable: true }));
      }
    });
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(this.connectionError('connection closed', 'NoConnection')));
  }

  // Server answers to APPEND are short lines; a literal in an untagged answer is skipped whole.
  private skip = 0;
  private partial = '';
  private draining = false;

  private receive(chunk: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    for (;;) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, this.buffer.length);
        this.buffer = this.buffer.subarray(n);
        this.skip -= n;
        if (this.skip > 0) return;
      }
      // RFC 3501 lines end in CRLF; GNU imap4d 3.15 ends some tagged replies (AUTHENTICATE's OK)
      // with a bare LF. Both are taken: waiting for a CR that never comes hung the copy.
      const end = this.buffer.indexOf('\n');
      if (end === -1) {
        if (this.buffer.length > MAX_LINE_BYTES) this.protocolError(this.buffer.subarray(0, 200).toString('latin1'));
        return;
      }
      const line = this.buffer.subarray(0, end > 0 && this.buffer[end - 1] === 0x0d ? end - 1 : end).toString('utf8');
      this.buffer = this.buffer.subarray(end + 1);
      const literal = /\{(\d+)\+?\}$/.exec(line);
      if (literal) {
        // The literal's bytes are skipped; the rest of the reply, after them, belongs to this line.
        this.skip = Number(literal[1]);
        this.partial += line;
        continue;
      }
      const whole = this.partial + line;
      this.partial = '';
      this.onActivity?.();
      const waiter = this.waiters.shift();
      if (this.waiters.length === 0) this.socket.setTimeout(0);
      if (waiter) waiter.resolve(whole);
      else this.lines.push(whole);
    }
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    for (const waiter of this.waiters.splice(0)) waiter.reject(err);
    this.socket.destroy();
  }

  private connectionError(detail: string, code = 'NoConnection'): Error {
    return Object.assign(new Error(`${this.host}: ${detail}`), { code });
  }
}

// node:tls is loaded by the first connection that needs it: a plain login (loopback) starts ~10 ms sooner without it.
const loadTls = () => import('node:tls');

async function openSocket(endpoint: ImapEndpoint): Promise<net.Socket> {
  const tls = endpoint.security === 'tls' ? await loadTls() : undefined;
  return new Promise((resolve, reject) => {
    const options = { host: endpoint.host, port: endpoint.port, timeout: 30_000 };
    const socket = tls
      ? tls.connect({ ...options, servername: net.isIP(endpoint.host) ? undefined : endpoint.host, rejectUnauthorized: endpoint.tlsVerify, ca: endpoint.ca })
      : net.connect(options);
    // Commands and APPENDs go out in several writes; with Nagle the last small one waited for the
    // server's delayed ACK (40 ms on Linux) while the server waited for it: a pause per command.
    socket.setNoDelay(true);
    const event = endpoint.security === 'tls' ? 'secureConnect' : 'connect';
    socket.once(event, () => { socket.setTimeout(0); socket.removeAllListeners('error'); socket.removeAllListeners('timeout'); resolve(socket); });
    socket.once('timeout', () => { socket.destroy(); reject(Object.assign(new Error('connection timed out'), { code: 'CONNECT_TIMEOUT' })); });
    socket.once('error', reject);
  });
}

async function upgrade(socket: net.Socket, endpoint: ImapEndpoint): Promise<net.Socket> {
  const tls = await loadTls();
  socket.removeAllListeners('data');
  socket.removeAllListeners('close');
  socket.removeAllListeners('error');
  return new Promise((resolve, reject) => {
    const secure = tls.connect({ socket, servername: net.isIP(endpoint.host) ? undefined : endpoint.host, rejectUnauthorized: endpoint.tlsVerify, ca: endpoint.ca });
    secure.once('secureConnect', () => { secure.removeAllListeners('error'); resolve(secure); });
    secure.once('error', reject);
  });
}
