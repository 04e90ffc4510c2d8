import net from 'node:net';
import type { ImapFlow, ImapFlowOptions } from 'imapflow';
import { CutoverError } from '../errors.ts';
import type { ImapEndpoint } from '../plugins/contract.ts';
import type { Logger } from '../log.ts';
import { DEFAULT_STALL_SECONDS, guardedClient } from './guard.ts';
import { currentAccessToken, usesAccessToken } from './oauth2/endpoint.ts';
import { tokenLoginError } from './oauth2/login-errors.ts';

export type ImapClient = ImapFlow;

/** How to reach an endpoint (transport and TLS), the same for a login and for a look at the greeting. */
export function imapTransportOptions(endpoint: Omit<ImapEndpoint, 'auth'>) {
  return {
    host: endpoint.host,
    port: endpoint.port,
    secure: endpoint.security === 'tls',
    doSTARTTLS: { tls: undefined, starttls: true, 'starttls-optional': undefined, none: false }[endpoint.security],
    // SNI carries names only (RFC 6066); the certificate is still checked against an IP address.
    servername: net.isIP(endpoint.host) ? undefined : endpoint.host,
    tls: { rejectUnauthorized: endpoint.tlsVerify, ca: endpoint.ca },
    logger: false as const,
    disableAutoIdle: true,
  };
}

export interface ImapOpenOptions {
  /** A server silent this long (no greeting, no answer) ends the connection; default 60 s. */
  stallSeconds?: number;
  /** Aborted when the pass has failed: a login still under way is given up at once. */
  signal?: AbortSignal;
}

// One ImapFlow instance is one connection and cannot reconnect; callers open a new one.
export async function openImap(endpoint: ImapEndpoint, log?: Logger, opts: ImapOpenOptions = {}): Promise<ImapFlow> {
  if (!usesAccessToken(endpoint.auth)) return connectImap(endpoint, { user: endpoint.auth.user, pass: endpoint.auth.pass, ...(endpoint.auth.authzid && { authzid: endpoint.auth.authzid, loginMethod: 'AUTH=PLAIN' }) }, log, opts);
  // A token the server refuses (expired early, revoked) gets one forced renewal before the login counts as refused.
  const first = await currentAccessToken(endpoint.auth);
  try {
    return await connectImap(endpoint, { user: endpoint.auth.user, accessToken: first }, log, opts);
  } catch (err) {
    if (!(err instanceof CutoverError && err.code === 'AUTH_FAILED')) throw err;
    if (!endpoint.auth.renewAccessToken) throw tokenLoginError(err.cause, endpoint.host, endpoint.auth.user);
  }
  try {
    return await connectImap(endpoint, { user: endpoint.auth.user, accessToken: await currentAccessToken(endpoint.auth, first) }, log, opts);
  } catch (err) {
    throw err instanceof CutoverError && err.code === 'AUTH_FAILED' ? tokenLoginError(err.cause, endpoint.host, endpoint.auth.user) : err;
  }
}

async function connectImap(endpoint: ImapEndpoint, auth: NonNullable<ImapFlowOptions['auth']>, log: Logger | undefined, opts: ImapOpenOptions): Promise<ImapFlow> {
  const stallSeconds = opts.stallSeconds ?? DEFAULT_STALL_SECONDS;
  const guard = guardedClient();
  // Loaded on first use: a pass on a server our own sessions fully serve (a no-op re-run on Dovecot) never needs it, and it costs about 30 ms to load.
  const { ImapFlow } = await import('imapflow');
  const client = new ImapFlow({
    ...imapTransportOptions(endpoint),
    ...guard.options,
    auth,
    connectionTimeout: 30_000,
    greetingTimeout: Math.min(16_000, stallSeconds * 1000),
    // imapflow's default is 5 minutes: a server that stops answering would hold the copy that long, then again after every reconnect.
    socketTimeout: stallSeconds * 1000,
  });
  guard.bind(client);
  withoutNagle(client);
  client.on('error', (err: Error) => log?.warn({ host: endpoint.host, err: err.message }, 'imap connection error'));
  const giveUp = () => client.close();
  opts.signal?.addEventListener('abort', giveUp);
  try {
    if (opts.signal?.aborted) throw opts.signal.reason;
    await client.connect();
  } catch (err) {
    client.close();
    if (auth.accessToken && /Unsupported authentication mechanism/.test((err as Error).message)) throw tokenLoginError(err, endpoint.host, auth.user);
    throw mapImapError(silenceDetail(err, stallSeconds, (client as unknown as { greetingReceived?: boolean }).greetingReceived === true), endpoint.host, 'login');
  } finally {
    opts.signal?.removeEventListener('abort', giveUp);
  }
  return client;
}

/**
 * imapflow leaves Nagle's algorithm on. A command written in two pieces then waits for the
 * server's delayed ACK (40 ms on Linux) before its second piece goes, while the server waits for
 * that piece to answer: a pause per command, login included. Its socket is set up in
 * configureSocket (imapflow 2.1.2), before the greeting.
 */
function withoutNagle(client: ImapFlow): void {
  const internals = client as unknown as { configureSocket(socket: net.Socket | undefined): void };
  const configure = internals.configureSocket.bind(client);
  internals.configureSocket = (socket) => {
    socket?.setNoDelay?.(true);
    configure(socket);
  };
}

// imapflow's words for a silent server do not say how long it waited (its greeting and socket timers can fire together).
function silenceDetail(err: unknown, stallSeconds: number, greeted: boolean): unknown {
  const e = err as Error & { code?: string };
  if (e?.code === 'GREETING_TIMEOUT' || (e?.code === 'ETIMEOUT' && !greeted)) e.message = `no greeting within ${Math.min(16, stallSeconds)} s`;
  else if (e?.code === 'ETIMEOUT') e.message = `no answer within ${stallSeconds} s after the greeting`;
  return err;
}

export function mapImapError(err: unknown, host: string, command: string): CutoverError {
  if (err instanceof CutoverError) return err;
  const e = err as Error & { authenticationFailed?: boolean; tlsFailed?: boolean; code?: string; responseText?: string; serverResponseCode?: string };
  if (e.tlsFailed) return new CutoverError('STARTTLS_MISSING', { host }, { cause: err });
  // imapflow's stream limits (a greeting or a LIST line that never ends): what the server sent, not the network.
  if (e.code && ['LineTooLarge', 'LiteralTooLarge', 'ResponseTooLarge', 'UnexpectedTag'].includes(e.code)) return new CutoverError('IMAP_PROTOCOL', { host, detail: e.message }, { cause: err });
  // RFC 5530 UNAVAILABLE: the server could not check the login just now (Dovecot when its passdb
  // fails), which a later attempt gets past; the appender's own login treats it the same way.
  if (e.authenticationFailed && e.serverResponseCode?.toUpperCase() === 'UNAVAILABLE') {
    return new CutoverError('HOST_UNREACHABLE', { host, detail: e.responseText || e.message }, { retryable: true, cause: err });
  }
  if (e.authenticationFailed) return new CutoverError('AUTH_FAILED', { host }, { cause: err });
  if (e.code && ['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'CONNECT_TIMEOUT', 'GREETING_TIMEOUT', 'NoConnection', 'EPIPE', 'ETIMEOUT'].includes(e.code)) {
    return new CutoverError('HOST_UNREACHABLE', { host, detail: e.message }, { retryable: true, cause: err });
  }
  if ((e.code && /CERT|SELF_SIGNED|ERR_TLS|UNABLE_TO_VERIFY/.test(e.code)) || /certificate|altnames/i.test(e.message)) {
    return new CutoverError('TLS_FAILED', { host, detail: e.message }, { cause: err });
  }
  return new CutoverError('IMAP_FAILED', { host, command, detail: e.responseText || e.message }, { retryable: true, cause: err });
}

/** A LOGOUT left unanswered this long is not waited for: a silent server would otherwise hold the end of a failed pass for a whole stall timeout more. */
const LOGOUT_GRACE_MS = 2_000;

export async function closeQuietly(client: ImapFlow | undefined): Promise<void> {
  if (!client) return;
  let timer: NodeJS.Timeout | undefined;
  try {
    const answered = await Promise.race([client.logout().then(() => true), new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), LOGOUT_GRACE_MS); })]);
    if (!answered) client.close();
  } catch {
    client.close();
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `work` with one connection to each endpoint (opened by `open`), both closed afterwards whatever happens. */
export async function withPair<T>(a: ImapEndpoint, b: ImapEndpoint, log: Logger | undefined, work: (a: ImapFlow, b: ImapFlow) => Promise<T>,
  open: (endpoint: ImapEndpoint, log?: Logger) => Promise<ImapFlow> = openImap): Promise<T> {
  const first = await open(a, log);
  try {
    const second = await open(b, log);
    try {
      return await work(first, second);
    } finally {
      await closeQuietly(second);
    }
  } finally {
    await closeQuietly(first);
  }
}
