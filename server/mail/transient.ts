import { CutoverError } from '../errors.ts';

const CONNECTION_CODES = new Set(['NoConnection', 'ECONNRESET', 'EPIPE', 'ETIMEOUT', 'ETIMEDOUT', 'CONNECT_TIMEOUT', 'GREETING_TIMEOUT', 'ECONNREFUSED', 'ClosedAfterConnectTLS', 'ClosedAfterConnectText', 'ETHROTTLE']);

/**
 * How Exchange Online (Microsoft 365) says "not now" on any command, as users report it and
 * Microsoft documents it: "Request is throttled. Suggested Backoff Time: N milliseconds" (BAD or
 * NO), "Server Unavailable. 15", "User is authenticated but not connected." (the mailbox's
 * backend is busy), and the [UNAVAILABLE]/[LIMIT]/[INUSE] codes of RFC 5530.
 */
const THROTTLE_TEXT = /request is throttled|backoff time|server unavailable|authenticated but not connected|try again later/i;

/** A refusal that says "later": waited out (the server's suggested time, else a backoff), not counted as a stall. */
export function isThrottle(err: unknown): boolean {
  const e = err as { code?: string; message?: string; responseText?: string; serverResponseCode?: string } | undefined;
  if (!e || err instanceof CutoverError) return false;
  if (e.code === 'ETHROTTLE') return true;
  if (e.serverResponseCode && ['UNAVAILABLE', 'LIMIT', 'INUSE'].includes(e.serverResponseCode.toUpperCase())) return true;
  return THROTTLE_TEXT.test(`${e.message ?? ''} ${e.responseText ?? ''}`);
}

/** A failure that a new connection, a little later, can get past: the lane retries instead of giving up. */
export function isTransient(err: unknown): boolean {
  if (err instanceof CutoverError) return err.code === 'HOST_UNREACHABLE' && err.retryable;
  if (isThrottle(err)) return true;
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
