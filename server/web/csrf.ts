import { csrfSync } from 'csrf-sync';
import type { Request } from 'express';

/**
 * Synchronizer tokens kept in the session. Forms send `_csrf`; scripts using the JSON API send
 * the `X-CSRF-Token` header (GET /api/session gives the token). GET and HEAD never change state.
 */
export const csrf = csrfSync({
  getTokenFromRequest: (req: Request) => (typeof req.body?._csrf === 'string' ? req.body._csrf : req.get('x-csrf-token')),
  errorConfig: { statusCode: 403, code: 'CSRF_INVALID', message: 'invalid csrf token' },
});

export function isCsrfError(err: unknown): boolean {
  return (err as { code?: string })?.code === 'CSRF_INVALID';
}
