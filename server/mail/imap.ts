import { ImapFlow } from 'imapflow';
import { CutoverError } from '../errors.ts';
import type { ImapEndpoint } from '../plugins/contract.ts';
import type { Logger } from '../log.ts';

export type ImapClient = ImapFlow;

// One ImapFlow instance is one connection and cannot reconnect; callers open a new one.
export async function openImap(endpoint: ImapEndpoint, log?: Logger): Promise<ImapFlow> {
  const client = new ImapFlow({
    host: endpoint.host,
    port: endpoint.port,
    secure: endpoint.security === 'tls',
    doSTARTTLS: endpoint.security === 'starttls' ? true : endpoint.security === 'none' ? false : undefined,
    servername: endpoint.host,
    tls: { rejectUnauthorized: endpoint.tlsVerify, ca: endpoint.ca },
    auth: { user: endpoint.auth.user, pass: endpoint.auth.pass },
    logger: false,
    disableAutoIdle: true,
    connectionTimeout: 30_000,
    greetingTimeout: 16_000,
  });
  client.on('error', (err: Error) => log?.warn({ host: endpoint.host, err: err.message }, 'imap connection error'));
  try {
    await client.connect();
  } catch (err) {
    client.close();
    throw mapImapError(err, endpoint.host, 'login');
  }
  return client;
}

export function mapImapError(err: unknown, host: string, command: string): CutoverError {
  if (err instanceof CutoverError) return err;
  const e = err as Error & { authenticationFailed?: boolean; code?: string; responseText?: string; serverResponseCode?: string };
  if (e.authenticationFailed) return new CutoverError('AUTH_FAILED', { host }, { cause: err });
  if (e.code && ['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'CONNECT_TIMEOUT', 'GREETING_TIMEOUT', 'NoConnection', 'EPIPE', 'ETIMEOUT'].includes(e.code)) {
    return new CutoverError('HOST_UNREACHABLE', { host, detail: e.message }, { retryable: true, cause: err });
  }
  if (e.code && /CERT|SELF_SIGNED|ERR_TLS/.test(e.code)) {
    return new CutoverError('HOST_UNREACHABLE', { host, detail: `TLS certificate not accepted (${e.code})` }, { cause: err });
  }
  return new CutoverError('IMAP_FAILED', { host, command, detail: e.responseText || e.message }, { retryable: true, cause: err });
}

export async function closeQuietly(client: ImapFlow | undefined): Promise<void> {
  if (!client) return;
  try { await client.logout(); } catch { client.close(); }
}
