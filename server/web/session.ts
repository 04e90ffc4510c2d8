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
    flash?: { kind: 'ok' | 'error'; text: string };
  }
}

export const SESSION_COOKIE = 'cutover.sid';
const EIGHT_HOURS = 8 * 3600 * 1000;

/**
 * Sessions live in the `sessions` table of the main database (migration 003), so a restart
 * keeps admins logged in and several panel processes share them. The cookie is httpOnly,
 * sameSite=lax, and secure whenever the request came over TLS (behind a proxy: trust proxy).
 */
export function sessions(app: AppContext): RequestHandler {
  const store = new ConnectSessionKnexStore({ knex: app.db, tableName: 'sessions', createTable: false, cleanupInterval: 15 * 60_000, onDbCleanupError: (err) => app.log.warn({ err }, 'session cleanup failed') });
  // Derived from the data directory's key: nothing extra to configure, different per installation.
  const secret = createHmac('sha256', loadSecretKey(app.config.dataDir, app.config.secretKey)).update('cutover session cookie').digest('hex');
  return session({
    name: SESSION_COOKIE, secret, store, resave: false, saveUninitialized: false, rolling: true,
    cookie: { httpOnly: true, sameSite: 'lax', secure: 'auto', maxAge: EIGHT_HOURS },
  });
}
