import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Session, SessionData } from 'express-session';
import type { Db } from '../db/knex.ts';
import { authenticateToken, type TokenOwner } from '../services/tokens.ts';

declare global {
  namespace Express {
    interface Request {
      /** Set only by `bearerToken` once a presented API token checked out. */
      apiToken?: TokenOwner;
    }
  }
}

export function wantsJson(req: Request): boolean {
  return req.path.startsWith('/api/');
}

/** The actor name a token request acts under: the admin, and which of their tokens (for events and the audit trail). */
export function tokenActorName(owner: TokenOwner): string {
  return `${owner.userName} (token ${owner.tokenName})`;
}

/**
 * `Authorization: Bearer TOKEN` on /api/* only, ahead of the session middleware. A valid token
 * gives the request a session of its own that is never stored and sets no cookie (express-session
 * leaves a request that already has `req.session` alone), so the routes read the admin the same
 * way for both. No cookie is involved, so there is nothing for a cross-site request to ride on:
 * `csrf.ts` skips its check for exactly these requests. A wrong or revoked token is a 401 at
 * once, even if a session cookie came along: a script should learn its token is bad.
 * Pages never look at the header.
 */
export function bearerToken(db: Db): RequestHandler {
  return async (req, res, next) => {
    const header = req.get('authorization');
    if (!wantsJson(req) || !header || !/^bearer\s/i.test(header)) return next();
    const owner = await authenticateToken(db, header.replace(/^bearer\s+/i, '').trim());
    if (!owner) { res.status(401).json({ error: { code: 'TOKEN_INVALID', message: 'unknown or revoked API token' } }); return; }
    req.apiToken = owner;
    const data: Partial<SessionData> = { userId: owner.userId, userName: tokenActorName(owner) };
    req.session = data as Session & Partial<SessionData>;
    next();
  };
}

/** Every page but login needs a session: pages redirect to the login page, the API answers 401. */
export function requireUser(req: Request, res: Response, next: NextFunction): void {
  if (req.session?.userId) return next();
  if (wantsJson(req)) { res.status(401).json({ error: { code: 'AUTH_REQUIRED', message: 'log in first, or send Authorization: Bearer TOKEN' } }); return; }
  res.redirect(303, `${req.baseUrl}/login?next=${encodeURIComponent(req.originalUrl)}`);
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);
// Headers a reverse proxy or CDN adds: a loopback connection carrying one is a relayed request from anywhere.
const PROXY_HEADERS = [
  'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-forwarded-server', 'forwarded', 'x-real-ip', 'via',
  'true-client-ip', 'cf-connecting-ip', 'x-client-ip',
];
// The names a browser on this machine uses for it, with an optional port. Anything else is a page
// from elsewhere whose DNS name now points at 127.0.0.1 (DNS rebinding).
const LOOPBACK_HOST = /^(?:localhost|127\.0\.0\.1|\[::1\])(?::\d{1,5})?$/i;

/**
 * A client on this very machine, by the socket's address only (never X-Forwarded-For, which anyone
 * can send), that addressed the server by a loopback name. A proxy on the same host would make
 * every visitor look local, so a request that carries forwarding headers does not count as local
 * either; a Host that is not loopback is a rebinding page in a local browser.
 */
export function isDirectLoopback(req: Request): boolean {
  return LOOPBACK.has(req.socket.remoteAddress ?? '')
    && LOOPBACK_HOST.test(req.get('host') ?? '')
    && PROXY_HEADERS.every((h) => req.get(h) === undefined);
}
