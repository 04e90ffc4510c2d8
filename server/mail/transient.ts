import { CutoverError } from '../errors.ts';

const CONNECTION_CODES = new Set(['NoConnection', 'ECONNRESET', 'EPIPE', 'ETIMEOUT', 'ETIMEDOUT', 'CONNECT_TIMEOUT', 'GREETING_TIMEOUT', 'ECONNREFUSED', 'ClosedAfterConnectTLS', 'ClosedAfterConnectText', 'ETHROTTLE']);

/** A failure that a new connection, a little later, can get past: the lane retries instead of giving up. */
export function isTransient(err: unknown): boolean {
  if (err instanceof CutoverError) return err.code === 'HOST_UNREACHABLE' && err.retryable;
  const e = err as { code?: string; message?: string; responseText?: string; serverResponseCode?: string };
  if (e.code && CONNECTION_CODES.has(e.code)) return true;
  if (e.serverResponseCode && ['UNAVAILABLE', 'LIMIT', 'INUSE'].includes(e.serverResponseCode)) return true;
  return /connection not available|unexpected close|socket (closed|timeout)|throttl|try again later/i.test(`${e.message ?? ''} ${e.responseText ?? ''}`);
}

/** Server-suggested pause ("Suggested Backoff Time: N" on Exchange), else exponential from 1 s, capped at 30 s. */
export function laneBackoffMs(err: unknown, attempt: number): number {
  const hint = /backoff time:\s*(\d+)/i.exec(`${(err as { responseText?: string }).responseText ?? ''} ${(err as Error).message ?? ''}`);
  if (hint) return Math.min(Number(hint[1]), 300_000);
  return Math.min(30_000, 1_000 * 2 ** (attempt - 1));
}
