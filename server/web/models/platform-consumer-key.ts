import type { Request } from 'express';
import type { AppContext } from '../../context.ts';

declare module 'express-session' {
  interface SessionData {
    /** Consumer keys asked for but not validated yet, per platform name; sealed, since sessions are plain rows. */
    ovhPendingKeys?: Record<string, { sealed: string; validationUrl: string; requestedAt: string }>;
  }
}

export interface PendingKey { consumerKey: string; validationUrl: string; requestedAt: string }

export function keepPendingKey(req: Request, app: AppContext, platform: string, key: { consumerKey: string; validationUrl: string }): void {
  req.session.ovhPendingKeys = { ...req.session.ovhPendingKeys, [platform]: { sealed: app.box.seal(key.consumerKey), validationUrl: key.validationUrl, requestedAt: new Date().toISOString() } };
}

export function pendingKey(req: Request, app: AppContext, platform: string): PendingKey | null {
  const kept = req.session.ovhPendingKeys?.[platform];
  return kept ? { consumerKey: app.box.open(kept.sealed), validationUrl: kept.validationUrl, requestedAt: kept.requestedAt } : null;
}

export function dropPendingKey(req: Request, platform: string): void {
  if (!req.session.ovhPendingKeys) return;
  const { [platform]: _dropped, ...rest } = req.session.ovhPendingKeys;
  req.session.ovhPendingKeys = rest;
}

/**
 * The API's stateless equivalent (a token-authenticated script has no lasting session): the key
 * goes back sealed with the server's key, bound to the platform, and only this server can open it.
 */
export function sealTicket(app: AppContext, platform: string, consumerKey: string): string {
  return app.box.seal(JSON.stringify({ platform, consumerKey }));
}

export function openTicket(app: AppContext, platform: string, ticket: unknown): string | null {
  if (typeof ticket !== 'string' || !ticket) return null;
  try {
    const opened = JSON.parse(app.box.open(ticket)) as { platform?: string; consumerKey?: string };
    return opened.platform === platform && typeof opened.consumerKey === 'string' ? opened.consumerKey : null;
  } catch {
    return null;
  }
}
