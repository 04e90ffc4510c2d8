import type { AppContext } from '../context.ts';
import type { LoginLimiter } from './rate-limit.ts';

/** What the panel's routes share: the application, the login limiter and the page size. */
export interface WebContext { app: AppContext; limiter: LoginLimiter; pageSize: number }

export interface PanelOptions {
  /** Failed logins allowed per admin name from one client address within `loginWindowMs` (default 5 in 15 min). */
  loginAttempts?: number;
  /** Failed logins allowed from one client address, all names together (default 4 × loginAttempts). */
  loginAttemptsPerAddress?: number;
  loginWindowMs?: number;
  /**
   * Once a name has `loginAttempts` failures from anywhere, attempts on it from addresses its admin
   * never logged in from are served one at a time, this far apart (default 1 s); not a lockout.
   */
  loginNameDelayMs?: number;
  /** Mailboxes per project page (default 50). */
  pageSize?: number;
  /**
   * Behind a TLS-terminating proxy: trust its X-Forwarded-Proto so the session cookie keeps its
   * Secure flag. Not needed when the host application sets Express's `trust proxy` (session.ts).
   */
  trustProxy?: boolean;
}
