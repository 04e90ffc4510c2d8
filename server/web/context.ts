import type { AppContext } from '../context.ts';
import type { LoginLimiter } from './rate-limit.ts';

/** What the panel's routes share: the application, the login limiter and the page size. */
export interface WebContext { app: AppContext; limiter: LoginLimiter; pageSize: number }

export interface PanelOptions {
  /** Failed logins allowed per client address and per admin name within `loginWindowMs` (default 5 in 15 min). */
  loginAttempts?: number;
  loginWindowMs?: number;
  /** Mailboxes per project page (default 50). */
  pageSize?: number;
  /**
   * Behind a TLS-terminating proxy: trust its X-Forwarded-Proto so the session cookie keeps its
   * Secure flag. Not needed when the host application sets Express's `trust proxy` (session.ts).
   */
  trustProxy?: boolean;
}
