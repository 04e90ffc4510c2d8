import express, { type Router } from 'express';
import helmet from 'helmet';
import type { AppContext } from './context.ts';
import type { PanelOptions, WebContext } from './web/context.ts';
import { csrf } from './web/csrf.ts';
import { errorHandler, notFound } from './web/errors.ts';
import { requireUser } from './web/guard.ts';
import { LoginLimiter } from './web/rate-limit.ts';
import { apiRoutes } from './web/routes/api.ts';
import { assetRoutes } from './web/routes/assets.ts';
import { authRoutes } from './web/routes/auth.ts';
import { dashboardRoutes } from './web/routes/dashboard.ts';
import { domainRoutes } from './web/routes/domains.ts';
import { mailboxRoutes } from './web/routes/mailboxes.ts';
import { projectRoutes } from './web/routes/projects.ts';
import { sessions } from './web/session.ts';

export type { PanelOptions } from './web/context.ts';

/**
 * The mountable panel: a host control panel mounts this router under a path of its own
 * (links use the mount path). Order matters: headers, body, session, CSRF, then the public
 * routes (login, language), the session check, and the pages and API behind it.
 */
export function createPanel(app: AppContext, options: PanelOptions = {}): Router {
  const web: WebContext = {
    app,
    limiter: new LoginLimiter(options.loginAttempts ?? 5, options.loginWindowMs ?? 15 * 60_000),
    pageSize: options.pageSize ?? 50,
  };
  const router = express.Router();
  router.use(helmet({ strictTransportSecurity: false }));
  router.use(express.urlencoded({ extended: false, limit: '100kb' }));
  router.use(express.json({ limit: '100kb' }));
  router.use(sessions(app));
  router.use(csrf.csrfSynchronisedProtection);
  router.use(assetRoutes());
  router.use(authRoutes(web));
  router.use(requireUser);
  router.use(dashboardRoutes(web));
  router.use(projectRoutes(web));
  router.use(domainRoutes(web));
  router.use(mailboxRoutes(web));
  router.use(apiRoutes(web));
  router.use(notFound);
  router.use(errorHandler(app.log));
  return router;
}
