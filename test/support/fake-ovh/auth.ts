import { createHash, timingSafeEqual } from 'node:crypto';
import { FakeApiError, type FakeCredential, type FakeState } from './state.ts';

/**
 * What the real API checks before any handler runs, with its answers (python-ovh and go-ovh
 * map them by errorCode): the application key, the consumer key and its state, the timestamp
 * window, the signature over the exact URL and body, then the key's access rules.
 */
const forbidden = (errorCode: string, message: string) => new FakeApiError(403, { errorCode, httpCode: '403 Forbidden', message });

export function signatureOf(secret: string, ck: string, method: string, url: string, body: string, timestamp: string): string {
  return `$1$${createHash('sha1').update([secret, ck, method, url, body, timestamp].join('+'), 'utf8').digest('hex')}`;
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** An access rule's path with `*` matching any rest of the path (slashes included). */
export function ruleMatches(rule: { method: string; path: string }, method: string, path: string): boolean {
  if (rule.method !== method) return false;
  const pattern = rule.path.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  return new RegExp(`^${pattern}$`).test(path);
}

export function authenticate(state: FakeState, req: { method: string; url: string; path: string; body: string; header(name: string): string | undefined }): FakeCredential {
  const appKey = req.header('x-ovh-application');
  const app = appKey ? state.apps.get(appKey) : undefined;
  if (!app) throw forbidden('INVALID_KEY', 'Invalid application key');
  const ck = req.header('x-ovh-consumer');
  if (!ck) throw new FakeApiError(401, { errorCode: 'NOT_CREDENTIAL', httpCode: '401 Unauthorized', message: 'You must login first' });
  const credential = state.credentials.get(ck);
  if (!credential || credential.applicationKey !== appKey) throw forbidden('INVALID_CREDENTIAL', 'This credential does not exist');
  const expired = credential.state === 'expired' || (credential.expiration !== null && credential.expiration <= Date.now());
  if (expired || credential.state === 'refused') throw forbidden('INVALID_CREDENTIAL', 'This credential is not valid');
  if (credential.state === 'pendingValidation') throw forbidden('NOT_CREDENTIAL', 'This credential is not valid');
  const timestamp = req.header('x-ovh-timestamp') ?? '';
  if (!/^\d+$/.test(timestamp) || Math.abs(Number(timestamp) - state.serverTime()) > state.timeWindowSeconds) {
    throw new FakeApiError(400, { errorCode: 'QUERY_TIME_OUT', httpCode: '400 Bad Request', message: 'Query out of time' });
  }
  const expected = signatureOf(app.secret, ck, req.method, req.url, req.body, timestamp);
  if (!sameText(expected, req.header('x-ovh-signature') ?? '')) {
    throw new FakeApiError(400, { errorCode: 'INVALID_SIGNATURE', httpCode: '400 Bad Request', message: 'Invalid signature' });
  }
  if (!credential.rules.some((rule) => ruleMatches(rule, req.method, req.path))) throw forbidden('NOT_GRANTED_CALL', 'This call has not been granted');
  credential.lastUse = new Date().toISOString();
  return credential;
}
