import { CutoverError } from '../../server/errors.ts';
import type { Logger } from '../../server/log.ts';
import { ovhJson, signRequest } from './signing.ts';

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** An error answer of the API: `{message, class?, errorCode?, httpCode?, details?}` plus the X-OVH-Query-Id header. */
export class OvhApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: { message?: string; class?: string; errorCode?: string; httpCode?: string; details?: Record<string, unknown> },
    readonly method: Method,
    readonly path: string,
    readonly queryId: string | null,
  ) {
    super(`${method} ${path}: HTTP ${status}${body.errorCode ? ` ${body.errorCode}` : ''}: ${body.message ?? '(no message)'}${queryId ? ` [query ${queryId}]` : ''}`);
    this.name = 'OvhApiError';
  }

  get apiMessage(): string {
    return this.body.message ?? '';
  }
}

export interface OvhClientOptions {
  /** e.g. https://eu.api.ovh.com/1.0 */
  baseUrl: string;
  applicationKey: string;
  applicationSecret?: string;
  consumerKey?: string;
  timeoutMs?: number;
  retries?: number;
  retryBaseMs?: number;
  log?: Logger;
  /** Milliseconds since the epoch; a test can move the local clock. */
  now?: () => number;
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | null | undefined>;
  body?: unknown;
  /** false for the unauthenticated calls (/auth/time, /auth/credential). */
  auth?: boolean;
}

const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504]);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'TimeoutError', 'AbortError']);
const CREDENTIAL_FIX = 'Create a new consumer key with: cutover ovh credential --config FILE (then validate it at the printed URL and store it in the platform configuration).';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * One signed connection to the OVHcloud API v1. The server clock offset is read once from
 * /auth/time and reused; it is read again when the API answers "Query out of time".
 * Idempotent calls (GET, PUT, DELETE) are retried on network errors, 429 and 5xx with
 * exponential backoff; POST only when the request never reached the server.
 */
export class OvhClient {
  /** Requests sent, /auth/time included: the figure the closing note asks for. */
  calls = 0;
  private delta: Promise<number> | undefined;
  private readonly now: () => number;

  constructor(private readonly options: OvhClientOptions) {
    this.now = options.now ?? Date.now;
  }

  get endpoint(): string {
    return this.options.baseUrl;
  }

  get<T>(path: string, query?: RequestOptions['query']): Promise<T> {
    return this.request<T>('GET', path, { query });
  }

  /** A GET whose 404 means "absent", not a failure. */
  async getOrNull<T>(path: string, query?: RequestOptions['query']): Promise<T | null> {
    try {
      return await this.request<T>('GET', path, { query });
    } catch (err) {
      if (err instanceof OvhApiError && err.status === 404) return null;
      throw err;
    }
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('POST', path, { body: body ?? {} });
  }

  put<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PUT', path, { body });
  }

  delete<T>(path: string, query?: RequestOptions['query']): Promise<T> {
    return this.request<T>('DELETE', path, { query });
  }

  /** Server time minus local time, in seconds. */
  timeDelta(): Promise<number> {
    if (!this.delta) {
      this.delta = this.request<number>('GET', '/auth/time', { auth: false }).then((server) => Number(server) - Math.floor(this.now() / 1000));
      this.delta.catch(() => { this.delta = undefined; });
    }
    return this.delta;
  }

  async request<T>(method: Method, path: string, opts: RequestOptions = {}): Promise<T> {
    const retries = this.options.retries ?? 3;
    let refreshedClock = false;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once<T>(method, path, opts);
      } catch (err) {
        if (err instanceof OvhApiError && err.status === 400 && /out of time/i.test(err.apiMessage) && !refreshedClock && opts.auth !== false) {
          refreshedClock = true;
          this.delta = undefined;
          continue;
        }
        if (attempt >= retries || !this.retryable(method, err)) throw err;
        const wait = (this.options.retryBaseMs ?? 500) * 2 ** attempt;
        this.options.log?.debug({ method, path, attempt: attempt + 1, wait, err: (err as Error).message }, 'ovh api call failed; retrying');
        await sleep(wait);
      }
    }
  }

  private retryable(method: Method, err: unknown): boolean {
    if (err instanceof OvhApiError) return RETRYABLE_STATUS.has(err.status) && (method !== 'POST' || err.status === 429 || err.status === 503);
    const code = networkCode(err);
    if (!code) return false;
    // A POST that may have reached the server is not repeated: it could create a second task.
    return method !== 'POST' || code === 'ECONNREFUSED';
  }

  private async once<T>(method: Method, path: string, opts: RequestOptions): Promise<T> {
    const url = this.options.baseUrl + path + queryString(opts.query);
    const body = opts.body === undefined || method === 'GET' || method === 'DELETE' ? '' : ovhJson(opts.body);
    const headers: Record<string, string> = { 'X-Ovh-Application': this.options.applicationKey, Accept: 'application/json' };
    if (body) headers['Content-Type'] = 'application/json';
    if (opts.auth !== false) {
      if (!this.options.applicationSecret || !this.options.consumerKey) {
        throw new CutoverError('CONFIG_INVALID', { where: ' for plugin ovhcloud', detail: 'an application secret and a consumer key are needed for authenticated calls' });
      }
      const timestamp = Math.floor(this.now() / 1000) + await this.timeDelta();
      headers['X-Ovh-Consumer'] = this.options.consumerKey;
      headers['X-Ovh-Timestamp'] = String(timestamp);
      headers['X-Ovh-Signature'] = signRequest({ applicationSecret: this.options.applicationSecret, consumerKey: this.options.consumerKey, method, url, body, timestamp });
    }
    this.calls++;
    const response = await fetch(url, { method, headers, body: body || undefined, signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000) });
    const text = await response.text();
    let parsed: unknown = null;
    if (text) {
      try { parsed = JSON.parse(text); } catch {
        if (response.ok) throw new CutoverError('PLATFORM_FAILED', { platform: 'ovhcloud', detail: `${method} ${path}: the answer is not JSON (HTTP ${response.status})` }, { retryable: true });
        parsed = { message: text.slice(0, 200) };
      }
    }
    if (!response.ok) throw new OvhApiError(response.status, (parsed ?? {}) as OvhApiError['body'], method, path, response.headers.get('x-ovh-query-id'));
    return parsed as T;
  }
}

function networkCode(err: unknown): string | undefined {
  const e = err as { name?: string; code?: string; cause?: { code?: string; name?: string } };
  for (const candidate of [e?.cause?.code, e?.code, e?.name, e?.cause?.name]) if (candidate && NETWORK_CODES.has(candidate)) return candidate;
  return undefined;
}

function queryString(query: RequestOptions['query']): string {
  if (!query) return '';
  // node-ovh drops null parameters; python-ovh sends booleans as lowercase words.
  const pairs = Object.entries(query).filter(([, v]) => v !== null && v !== undefined).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  return pairs.length ? `?${pairs.join('&')}` : '';
}

/**
 * The one translation from API failures to the workflow's typed errors: credentials and grants
 * are permanent (an admin must act), throttling, 5xx and network trouble are retryable.
 */
export function toCutoverError(err: unknown, endpoint: string, what: string): CutoverError {
  if (err instanceof CutoverError) return err;
  if (err instanceof OvhApiError) {
    const code = err.body.errorCode;
    const detail = `${err.apiMessage || `HTTP ${err.status}`}${err.queryId ? ` (query id ${err.queryId})` : ''}`;
    if (err.status === 403 && (code === 'INVALID_CREDENTIAL' || code === 'NOT_CREDENTIAL' || code === 'INVALID_KEY')) {
      const fix = code === 'INVALID_KEY' ? 'Check applicationKey in the platform configuration (application keys are created on the region\'s /createApp/ page).'
        : code === 'NOT_CREDENTIAL' ? `The consumer key is missing or not validated yet: open the validation URL \`cutover ovh credential\` printed, or ${CREDENTIAL_FIX[0]!.toLowerCase()}${CREDENTIAL_FIX.slice(1)}`
          : CREDENTIAL_FIX;
      return new CutoverError('API_CREDENTIAL_INVALID', { endpoint, detail: `${detail} [${code}]`, fix }, { cause: err });
    }
    if (err.status === 400 && /invalid signature/i.test(err.apiMessage)) {
      return new CutoverError('API_CREDENTIAL_INVALID', { endpoint, detail, fix: 'The application secret does not match the application key: check applicationSecret in the platform configuration.' }, { cause: err });
    }
    if (err.status === 401) return new CutoverError('API_CREDENTIAL_INVALID', { endpoint, detail, fix: CREDENTIAL_FIX }, { cause: err });
    if (err.status === 403 && code === 'NOT_GRANTED_CALL') {
      return new CutoverError('API_CALL_NOT_GRANTED', { endpoint, call: `${err.method} ${err.path.split('?')[0]}`, fix: `Request a consumer key with the rules cutover needs: cutover ovh credential --config FILE.` }, { cause: err });
    }
    const retryable = RETRYABLE_STATUS.has(err.status);
    return new CutoverError('PLATFORM_FAILED', { platform: 'ovhcloud', detail: `${what}: ${detail}` }, { retryable, cause: err });
  }
  if (networkCode(err) || (err as Error)?.name === 'TypeError') {
    const cause = (err as { cause?: Error }).cause;
    return new CutoverError('HOST_UNREACHABLE', { host: endpoint, detail: cause?.message ?? (err as Error).message }, { retryable: true, cause: err });
  }
  return new CutoverError('PLATFORM_FAILED', { platform: 'ovhcloud', detail: `${what}: ${(err as Error)?.message ?? String(err)}` }, { retryable: true, cause: err });
}
