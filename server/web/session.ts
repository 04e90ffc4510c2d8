import { createHmac } from 'node:crypto';
import session from 'express-session';
import { ConnectSessionKnexStore } from 'connect-session-knex';
import type { RequestHandler } from 'express';
import type { AppContext } from '../context.ts';
import { loadSecretKey } from '../secrets.ts';
import type { Language } from './i18n.ts';

declare module 'express-session' {
  interface SessionData {
    userId?: number;
    userName?: string;
    lang?: Language;
    /** The admin's own time zone (users.time_zone); the server's when unset. */
    timeZone?: string;
    flash?: { kind: 'ok' | 'error'; text: string };
  }
}

export const SESSION_COOKIE = 'cutover.sid';
const EIGHT_HOURS = 8 * 3600 * 1000;

export interface SessionOptions {
  /**
   * Behind a TLS-terminating reverse proxy the panel sees plain HTTP, so the cookie would lose its
   * Secure flag. Either the host application sets Express's `trust proxy` (then `req.secure`
   * follows X-Forwarded-Proto from the trusted hops), or it passes `trustProxy: true` to
   * createPanel, which makes the session trust X-Forwarded-Proto for the cookie alone. Left
   * undefined, Express's own `trust proxy` setting decides.
   */
  trustProxy?: boolean;
}

/**
 * Sessions live in the `sessions` table of the main database (migration 003), so a restart
 * keeps admins logged in and several panel processes share them. The cookie is httpOnly (no
 * script reads it), sameSite=lax (other sites' forms and scripts do not send it; links still
 * do, so a link to a page works), and secure whenever the request came over TLS: `secure:
 * 'auto'` decides per request, so the same panel works on plain http://127.0.0.1 and behind TLS.
 */
export function sessions(app: AppContext, options: SessionOptions = {}): RequestHandler {
  const store = new ConnectSessionKnexStore({ knex: app.db, tableName: 'sessions', createTable: false, cleanupInterval: 15 * 60_000, onDbCleanupError: (err) => app.log.warn({ err }, 'session cleanup failed') });
  // Derived from the data directory's key: nothing extra to configure, different per installation.
  const secret = createHmac('sha256', loadSecretKey(app.config.dataDir, app.config.secretKey)).update('cutover session cookie').digest('hex');
  return session({
    name: SESSION_COOKIE, secret, store, resave: false, saveUninitialized: false, rolling: true, proxy: options.trustProxy,
    cookie: { httpOnly: true, sameSite: 'lax', secure: 'auto', maxAge: EIGHT_HOURS },
  });
}
