// A ManageSieve client (RFC 5804): STARTTLS, SASL PLAIN (with an authorisation identity for a
// master user), LISTSCRIPTS, GETSCRIPT, CHECKSCRIPT, PUTSCRIPT, SETACTIVE, DELETESCRIPT. Replies
// are parsed from a byte buffer (quoted strings, {N}/{N+} literals, response codes), with every
// literal and line bounded, whatever the server announces.
import net from 'node:net';
import tls from 'node:tls';
import { CutoverError } from '../../errors.ts';
import type { SieveEndpoint } from '../../plugins/contract.ts';

type Token = { kind: 'atom' | 'string' | 'code'; value: string; bytes?: Buffer };
interface Reply { status: 'OK' | 'NO' | 'BYE'; code?: string; text: string; lines: Token[][] }

export const MAX_SCRIPT_BYTES = 1024 * 1024;
const MAX_LINE_BYTES = 64 * 1024;
const MAX_LINES = 10_000;
const TIMEOUT_MS = 30_000;

class Incomplete extends Error {}

export type SieveResult = { ok: true } | { ok: false; words: string };

function quote(text: string): string {
  if (/[\r\n\0]/.test(text)) throw new CutoverError('INPUT_INVALID', { detail: 'a Sieve script name cannot contain line breaks' });
  return `"${text.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

export class ManageSieve {
  private buffer = Buffer.alloc(0);
  private wake: (() => void) | undefined;
  private closed: Error | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  capabilities = new Map<string, string>();

  private constructor(private socket: net.Socket, readonly host: string) {
    this.attach(socket);
  }

  private attach(socket: net.Socket): void {
    this.socket = socket;
    socket.setTimeout(TIMEOUT_MS, () => socket.destroy(Object.assign(new Error(`no answer in ${TIMEOUT_MS / 1000} s`), { code: 'ETIMEDOUT' })));
    socket.on('data', (chunk: Buffer) => { this.buffer = Buffer.concat([this.buffer, chunk]); this.wake?.(); });
    socket.on('error', (err) => { this.closed ??= err; this.wake?.(); });
    socket.on('close', () => { this.closed ??= new Error('connection closed'); this.wake?.(); });
  }

  static async connect(endpoint: SieveEndpoint): Promise<ManageSieve> {
    const host = `${endpoint.host}:${endpoint.port}`;
    const tlsOptions = { host: endpoint.host, port: endpoint.port, servername: net.isIP(endpoint.host) ? undefined : endpoint.host, rejectUnauthorized: endpoint.tlsVerify, ...(endpoint.ca && { ca: endpoint.ca }) };
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = endpoint.security === 'tls' ? tls.connect(tlsOptions) : net.connect({ host: endpoint.host, port: endpoint.port });
      s.once(endpoint.security === 'tls' ? 'secureConnect' : 'connect', () => resolve(s));
      s.once('error', (err) => reject(connectError(err as NodeJS.ErrnoException, host)));
    });
    const client = new ManageSieve(socket, host);
    try {
      await client.readCapabilities('greeting');
      if (endpoint.security === 'starttls' || (endpoint.security === 'starttls-optional' && client.capabilities.has('STARTTLS'))) {
        if (!client.capabilities.has('STARTTLS')) throw new CutoverError('SIEVE_FAILED', { command: 'STARTTLS', host, detail: 'the server does not offer STARTTLS' });
        await client.startTls(tlsOptions);
      }
      await client.authenticate(endpoint.auth);
    } catch (err) {
      client.socket.destroy();
      throw err;
    }
    return client;
  }

  private async startTls(options: tls.ConnectionOptions): Promise<void> {
    const reply = await this.command('STARTTLS');
    if (reply.status !== 'OK') throw this.failure('STARTTLS', reply);
    this.socket.removeAllListeners('data');
    this.socket.removeAllListeners('close');
    this.socket.removeAllListeners('error');
    this.buffer = Buffer.alloc(0);
    const secure = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const s = tls.connect({ ...options, socket: this.socket });
      s.once('secureConnect', () => resolve(s));
      s.once('error', (err) => reject(connectError(err as NodeJS.ErrnoException, this.host)));
    });
    this.attach(secure);
    await this.readCapabilities('STARTTLS');
  }

  private async authenticate(auth: SieveEndpoint['auth']): Promise<void> {
    const sasl = this.capabilities.get('SASL') ?? '';
    if (!/\bPLAIN\b/i.test(sasl)) throw new CutoverError('SIEVE_FAILED', { command: 'AUTHENTICATE', host: this.host, detail: `the server offers no PLAIN login (SASL: ${sasl.slice(0, 100) || 'none'})` });
    const token = Buffer.from(`${auth.authzid ?? ''}\0${auth.user}\0${auth.pass}`, 'utf8').toString('base64');
    const reply = await this.command(`AUTHENTICATE "PLAIN" "${token}"`);
    if (reply.status !== 'OK') throw new CutoverError('AUTH_FAILED', { host: this.host });
  }

  private async readCapabilities(after: string): Promise<void> {
    const reply = await this.readReply();
    if (reply.status !== 'OK') throw this.failure(after, reply);
    this.capabilities = new Map(reply.lines.map((line) => [line[0]?.value.toUpperCase() ?? '', line[1]?.value ?? '']));
  }

  // Parses one line of tokens at the start of the buffer, or throws Incomplete.
  private parseLine(): { tokens: Token[]; used: number } {
    const b = this.buffer;
    const tokens: Token[] = [];
    let i = 0;
    for (;;) {
      while (b[i] === 0x20) i++;
      if (i >= b.length) throw new Incomplete();
      if (i > MAX_LINE_BYTES) throw this.invalid(`a line longer than ${MAX_LINE_BYTES} bytes`);
      const c = b[i]!;
      if (c === 0x0d || c === 0x0a) {
        if (c === 0x0d) { if (i + 1 >= b.length) throw new Incomplete(); i++; }
        return { tokens, used: i + 1 };
      }
      if (c === 0x22) {
        let j = i + 1;
        const out: number[] = [];
        for (;;) {
          if (j >= b.length) throw new Incomplete();
          if (j - i > MAX_LINE_BYTES) throw this.invalid('a quoted string too long');
          const d = b[j]!;
          if (d === 0x5c) { if (j + 1 >= b.length) throw new Incomplete(); out.push(b[j + 1]!); j += 2; continue; }
          if (d === 0x22) break;
          if (d === 0x0d || d === 0x0a) throw this.invalid('a line break inside a quoted string');
          out.push(d);
          j++;
        }
        tokens.push({ kind: 'string', value: Buffer.from(out).toString('utf8') });
        i = j + 1;
        continue;
      }
      if (c === 0x7b) {
        const close = b.indexOf(0x7d, i);
        if (close < 0) { if (b.length - i > 32) throw this.invalid('an unterminated literal length'); throw new Incomplete(); }
        const match = /^\{(\d{1,10})\+?\}$/.exec(b.subarray(i, close + 1).toString('latin1'));
        if (!match) throw this.invalid('an unreadable literal length');
        const size = Number(match[1]);
        if (size > MAX_SCRIPT_BYTES) throw this.invalid(`a literal of ${size} bytes (the limit is ${MAX_SCRIPT_BYTES})`);
        let start = close + 1;
        if (b[start] === 0x0d) start++;
        if (start >= b.length) throw new Incomplete();
        if (b[start] !== 0x0a) throw this.invalid('a literal length not followed by a line break');
        start++;
        if (b.length < start + size) throw new Incomplete();
        const bytes = Buffer.from(b.subarray(start, start + size));
        tokens.push({ kind: 'string', value: bytes.toString('utf8'), bytes });
        i = start + size;
        continue;
      }
      if (c === 0x28) {
        let j = i + 1;
        let inQuote = false;
        while (j < b.length && (inQuote || b[j] !== 0x29)) {
          if (b[j] === 0x22 && b[j - 1] !== 0x5c) inQuote = !inQuote;
          if (b[j] === 0x0a) throw this.invalid('a line break inside a response code');
          j++;
        }
        if (j >= b.length) throw new Incomplete();
        tokens.push({ kind: 'code', value: b.subarray(i + 1, j).toString('utf8') });
        i = j + 1;
        continue;
      }
      let j = i;
      while (j < b.length && b[j] !== 0x20 && b[j] !== 0x0d && b[j] !== 0x0a) j++;
      if (j >= b.length) throw new Incomplete();
      tokens.push({ kind: 'atom', value: b.subarray(i, j).toString('utf8') });
      i = j;
    }
  }

  private async readLine(): Promise<Token[]> {
    for (;;) {
      try {
        const { tokens, used } = this.parseLine();
        this.buffer = this.buffer.subarray(used);
        return tokens;
      } catch (err) {
        if (!(err instanceof Incomplete)) throw err;
      }
      if (this.closed) throw new CutoverError('SIEVE_FAILED', { command: 'read', host: this.host, detail: this.closed.message }, { retryable: true });
      if (this.buffer.length > MAX_SCRIPT_BYTES + MAX_LINE_BYTES) throw this.invalid('a reply larger than the limit');
      await new Promise<void>((resolve) => { this.wake = resolve; });
      this.wake = undefined;
    }
  }

  private async readReply(): Promise<Reply> {
    const lines: Token[][] = [];
    for (;;) {
      const line = await this.readLine();
      const first = line[0];
      if (first?.kind === 'atom' && /^(OK|NO|BYE)$/i.test(first.value)) {
        const code = line.find((t) => t.kind === 'code')?.value;
        const text = line.filter((t, n) => n > 0 && t.kind === 'string').map((t) => t.value).join(' ');
        return { status: first.value.toUpperCase() as Reply['status'], ...(code && { code }), text, lines };
      }
      lines.push(line);
      if (lines.length > MAX_LINES) throw this.invalid(`more than ${MAX_LINES} lines in one reply`);
    }
  }

  // One command at a time on the wire: replies carry no tag, so they are matched by order.
  private command(line: string, literal?: Buffer): Promise<Reply> {
    const turn = this.queue.then(() => this.send(line, literal));
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private async send(line: string, literal?: Buffer): Promise<Reply> {
    if (this.closed) throw new CutoverError('SIEVE_FAILED', { command: line.split(' ')[0]!, host: this.host, detail: this.closed.message }, { retryable: true });
    this.socket.write(literal ? Buffer.concat([Buffer.from(`${line} {${literal.length}+}\r\n`), literal, Buffer.from('\r\n')]) : `${line}\r\n`);
    return this.readReply();
  }

  private invalid(detail: string): CutoverError {
    this.socket.destroy();
    return new CutoverError('SIEVE_REPLY_INVALID', { host: this.host, detail });
  }

  private failure(command: string, reply: Reply): CutoverError {
    return new CutoverError('SIEVE_FAILED', { command, host: this.host, detail: words(reply) }, { retryable: reply.status === 'BYE' });
  }

  async listScripts(): Promise<Array<{ name: string; active: boolean }>> {
    const reply = await this.command('LISTSCRIPTS');
    if (reply.status !== 'OK') throw this.failure('LISTSCRIPTS', reply);
    return reply.lines.filter((l) => l[0]?.kind === 'string').map((l) => ({ name: l[0]!.value, active: l[1]?.kind === 'atom' && l[1].value.toUpperCase() === 'ACTIVE' }));
  }

  async getScript(name: string): Promise<Buffer> {
    const reply = await this.command(`GETSCRIPT ${quote(name)}`);
    if (reply.status !== 'OK') throw this.failure('GETSCRIPT', reply);
    const token = reply.lines[0]?.[0];
    if (!token || token.kind !== 'string') throw this.invalid(`GETSCRIPT ${name.slice(0, 100)} returned no script`);
    return token.bytes ?? Buffer.from(token.value, 'utf8');
  }

  /** CHECKSCRIPT (ManageSieve 1.0): whether the script compiles here, in the server's words (line, extension). */
  async checkScript(data: Buffer): Promise<SieveResult> {
    const reply = await this.command('CHECKSCRIPT', data);
    return reply.status === 'OK' ? { ok: true } : { ok: false, words: words(reply) };
  }

  async putScript(name: string, data: Buffer): Promise<SieveResult> {
    const reply = await this.command(`PUTSCRIPT ${quote(name)}`, data);
    return reply.status === 'OK' ? { ok: true } : { ok: false, words: words(reply) };
  }

  /** '' deactivates every script. */
  async setActive(name: string): Promise<void> {
    const reply = await this.command(`SETACTIVE ${quote(name)}`);
    if (reply.status !== 'OK') throw this.failure('SETACTIVE', reply);
  }

  async deleteScript(name: string): Promise<void> {
    const reply = await this.command(`DELETESCRIPT ${quote(name)}`);
    if (reply.status !== 'OK') throw this.failure('DELETESCRIPT', reply);
  }

  get supportsCheck(): boolean {
    return this.capabilities.has('VERSION');
  }

  async logout(): Promise<void> {
    try { await this.command('LOGOUT'); } catch { /* closing anyway */ }
    this.socket.destroy();
  }
}

function words(reply: Reply): string {
  return [reply.code && `(${reply.code})`, reply.text || reply.status].filter(Boolean).join(' ').replace(/\s+/g, ' ').trim().slice(0, 500);
}

function connectError(err: NodeJS.ErrnoException, host: string): CutoverError {
  if (err.code && /CERT|SELF_SIGNED|TLS|SSL/i.test(err.code)) return new CutoverError('TLS_FAILED', { host, detail: err.code }, { cause: err });
  return new CutoverError('HOST_UNREACHABLE', { host, detail: err.code ?? err.message }, { retryable: true, cause: err });
}
