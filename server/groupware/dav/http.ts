// HTTP for WebDAV on node:http/https rather than fetch: a pinned CA and TLS verification per
// endpoint, keep-alive connections capped per server, and response bodies read as streams with a
// byte limit, whatever the server announces.
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { CutoverError } from '../../errors.ts';
import { isLoopback } from '../../loopback.ts';
import type { DavEndpoint } from '../../plugins/contract.ts';
import { MultistatusReader, type DavResponse } from './xml.ts';

export interface DavRequest {
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Largest body accepted; a longer one fails the request with `tooLarge`. */
  maxBytes?: number;
}

export interface DavReply { status: number; headers: IncomingMessage['headers']; body: Buffer }

const DEFAULT_MAX_BYTES = 1024 * 1024;
const TIMEOUT_MS = 60_000;
const MAX_REDIRECTS = 5;
const USER_AGENT = 'cutover-groupware';

/** A request's body went over its limit; the caller decides whether that is a skip or a failure. */
export class BodyTooLarge extends Error {
  constructor(readonly url: string, readonly limit: number) { super(`${url}: body larger than ${limit} bytes`); }
}

function networkError(err: NodeJS.ErrnoException, url: URL, method: string): CutoverError {
  const host = url.host;
  if (err.code === 'ECONNREFUSED' || err.code === 'ENOTFOUND' || err.code === 'EHOSTUNREACH' || err.code === 'ETIMEDOUT' || err.code === 'ECONNRESET') {
    return new CutoverError('HOST_UNREACHABLE', { host, detail: err.code }, { retryable: true, cause: err });
  }
  if (err.code && /CERT|SELF_SIGNED|TLS|SSL/i.test(err.code)) return new CutoverError('TLS_FAILED', { host, detail: err.code }, { cause: err });
  return new CutoverError('DAV_FAILED', { method, url: url.href, detail: err.message }, { retryable: true, cause: err });
}

/** The server's words from an error body: tags dropped, whitespace folded, bounded. */
export function serverWords(reply: DavReply): string {
  const text = reply.body.subarray(0, 4096).toString('utf8').replace(/<\?xml[^>]*>/g, ' ').replace(/<([\w:-]+)[^>]*\/>/g, ' $1 ').replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
  return text ? `${reply.status} ${text.slice(0, 300)}` : `${reply.status}`;
}

export class DavSession {
  readonly base: URL;
  private readonly agent: http.Agent;
  private readonly authorization: string;
  /** Headers every request carries: the login, and the account an admin acts for where the server takes it from a header. */
  private readonly identity: Record<string, string>;

  constructor(readonly endpoint: DavEndpoint) {
    let base: URL;
    try { base = new URL(endpoint.url); } catch {
      throw new CutoverError('INPUT_INVALID', { detail: `"${endpoint.url}" is not a URL (expected https://host[:port]/path/)` });
    }
    if (base.protocol !== 'https:' && base.protocol !== 'http:') throw new CutoverError('INPUT_INVALID', { detail: `${endpoint.url}: only http:// and https:// DAV URLs are supported` });
    if (base.protocol === 'http:' && !endpoint.allowPlaintext && !isLoopback(base.hostname.replace(/^\[|\]$/g, ''))) {
      throw new CutoverError('INPUT_INVALID', { detail: `${endpoint.url} sends the password in clear: use https://, or allow plain text explicitly` });
    }
    if (base.username || base.password) throw new CutoverError('INPUT_INVALID', { detail: 'put the DAV user and password in the settings, not in the URL' });
    if (!base.pathname.endsWith('/')) base.pathname += '/';
    this.base = base;
    this.agent = base.protocol === 'https:'
      ? new https.Agent({ keepAlive: true, maxSockets: 4, rejectUnauthorized: endpoint.tlsVerify, ...(endpoint.ca && { ca: endpoint.ca }) })
      : new http.Agent({ keepAlive: true, maxSockets: 4 });
    this.authorization = `Basic ${Buffer.from(`${endpoint.auth.user}:${endpoint.auth.pass}`, 'utf8').toString('base64')}`;
    if (endpoint.actAs?.header && /[\r\n]/.test(endpoint.actAs.user)) throw new CutoverError('INPUT_INVALID', { detail: 'an account name cannot contain line breaks' });
    this.identity = { authorization: this.authorization, ...(endpoint.actAs?.header && { [endpoint.actAs.header.toLowerCase()]: endpoint.actAs.user }) };
  }

  get host(): string { return this.base.host; }

  /** Whose collections these are: the account an admin acts for, or the login. */
  get account(): string { return this.endpoint.actAs?.user ?? this.endpoint.auth.user; }

  /** An href from a server (a path or an absolute URL) as a URL; null when it points at another server. */
  resolve(href: string, from: URL = this.base): URL | null {
    let url: URL;
    try { url = new URL(href, from); } catch { return null; }
    return url.origin === this.base.origin ? url : null;
  }

  private open(method: string, url: URL, req: DavRequest): Promise<IncomingMessage> {
    const lib = url.protocol === 'https:' ? https : http;
    const body = typeof req.body === 'string' ? Buffer.from(req.body, 'utf8') : req.body;
    return new Promise((resolve, reject) => {
      const request = lib.request(url, {
        method, agent: this.agent, timeout: TIMEOUT_MS,
        headers: { 'user-agent': USER_AGENT, ...(body && { 'content-length': String(body.length) }), ...req.headers, ...this.identity },
      });
      request.once('response', resolve);
      request.once('timeout', () => request.destroy(Object.assign(new Error(`no answer in ${TIMEOUT_MS / 1000} s`), { code: 'ETIMEDOUT' })));
      request.once('error', (err) => reject(networkError(err, url, method)));
      request.end(body);
    });
  }

  /** Sends a request; follows redirects on the same server only (the password goes nowhere else). */
  async stream(method: string, target: string | URL, req: DavRequest = {}): Promise<{ url: URL; res: IncomingMessage }> {
    let url = typeof target === 'string' ? this.resolve(target) : target;
    if (!url) throw new CutoverError('DAV_FAILED', { method, url: String(target), detail: 'the address points to another server' });
    for (let hop = 0; ; hop++) {
      const res = await this.open(method, url, req);
      const location = res.headers.location;
      if (res.statusCode && [301, 302, 307, 308].includes(res.statusCode) && location && hop < MAX_REDIRECTS) {
        res.resume();
        const next = this.resolve(location, url);
        if (!next) throw new CutoverError('DAV_FAILED', { method, url: url.href, detail: `redirected to another server (${location.slice(0, 200)}); give that server's URL instead` });
        url = next;
        continue;
      }
      if (res.statusCode === 401) {
        res.resume();
        throw new CutoverError('AUTH_FAILED', { host: url.host });
      }
      return { url, res };
    }
  }

  /** A request with its whole body read, up to `maxBytes`. */
  async request(method: string, target: string | URL, req: DavRequest = {}): Promise<DavReply & { url: URL }> {
    const { url, res } = await this.stream(method, target, req);
    const limit = req.maxBytes ?? DEFAULT_MAX_BYTES;
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of res as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > limit) {
          res.destroy();
          throw new BodyTooLarge(url.href, limit);
        }
        chunks.push(chunk);
      }
    } catch (err) {
      if (err instanceof BodyTooLarge) throw err;
      throw networkError(err as NodeJS.ErrnoException, url, method);
    }
    return { url, status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) };
  }

  /**
   * PROPFIND/REPORT whose multistatus is read as it arrives: responses are yielded one chunk of
   * the body at a time, so memory follows the chunk, not the collection.
   */
  async *multistatus(method: 'PROPFIND' | 'REPORT', target: string | URL, body: string, depth: '0' | '1'): AsyncGenerator<{ url: URL; response: DavResponse }> {
    const { url, res } = await this.stream(method, target, { body, headers: { depth, 'content-type': 'application/xml; charset=utf-8' } });
    const where = `${method} ${url.href}`;
    if (res.statusCode !== 207) {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res as AsyncIterable<Buffer>) { if (size < 4096) chunks.push(chunk); size += chunk.length; }
      throw new CutoverError('DAV_FAILED', { method, url: url.href, detail: serverWords({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }) }, { retryable: (res.statusCode ?? 0) >= 500 });
    }
    res.setEncoding('utf8');
    const reader = new MultistatusReader(where);
    try {
      for await (const text of res as AsyncIterable<string>) {
        reader.write(text);
        for (const response of reader.drain()) yield { url, response };
      }
    } catch (err) {
      res.destroy();
      if (err instanceof CutoverError) throw err;
      throw networkError(err as NodeJS.ErrnoException, url, method);
    }
    reader.close();
    for (const response of reader.drain()) yield { url, response };
  }

  close(): void {
    this.agent.destroy();
  }
}
