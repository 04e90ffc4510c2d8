import { csrfSync } from 'csrf-sync';
import type { Request } from 'express';

/**
 * Synchronizer tokens kept in the session. Forms send `_csrf`; scripts using the JSON API with a
 * session send the `X-CSRF-Token` header (GET /api/session gives the token). GET and HEAD never
 * change state. Requests authenticated by an API token (guard.ts sets `req.apiToken` only for a
 * valid one) carry no cookie a forged cross-site request could borrow, so they need no CSRF token;
 * everything else, including a bearer header that did not check out, is checked as usual.
 */
export const csrf = csrfSync({
  getTokenFromRequest: (req: Request) => (typeof req.body?._csrf === 'string' ? req.body._csrf : req.get('x-csrf-token')),
  skipCsrfProtection: (req: Request) => req.apiToken !== undefined,
  errorConfig: { statusCode: 403, code: 'CSRF_INVALID', message: 'invalid csrf token' },
});

export function isCsrfError(err: unknown): boolean {
  return (err as { code?: string })?.code === 'CSRF_INVALID';
}
