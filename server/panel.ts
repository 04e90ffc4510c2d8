import express, { type Router } from 'express';
import helmet from 'helmet';
import type { AppContext } from './context.ts';
import type { PanelOptions, WebContext } from './web/context.ts';
import { csrf } from './web/csrf.ts';
import { errorHandler, notFound } from './web/errors.ts';
import { bearerToken, requireUser } from './web/guard.ts';
import { LoginLimiter, type LoginLimits } from './web/rate-limit.ts';
import { apiRoutes } from './web/routes/api.ts';
import { apiMailboxRoutes } from './web/routes/api-mailboxes.ts';
import { apiPlatformRoutes } from './web/routes/api-platforms.ts';
import { assetRoutes } from './web/routes/assets.ts';
import { auditRoutes } from './web/routes/audit.ts';
import { workerRoutes } from './web/routes/workers.ts';
import { authRoutes } from './web/routes/auth.ts';
import { dashboardRoutes } from './web/routes/dashboard.ts';
import { domainRoutes } from './web/routes/domains.ts';
import { domainsListRoutes } from './web/routes/domains-list.ts';
import { apiDnsRoutes } from './web/routes/api-dns.ts';
import { importRoutes, uploadParser } from './web/routes/imports.ts';
import { mailboxRoutes } from './web/routes/mailboxes.ts';
import { mailboxCollectionRoutes } from './web/routes/mailbox-collections.ts';
import { newProjectRoutes } from './web/routes/new-project.ts';
import { oneClickRoutes } from './web/routes/one-click.ts';
import { platformRoutes } from './web/routes/platforms.ts';
import { projectRoutes } from './web/routes/projects.ts';
import { reportRoutes } from './web/routes/reports.ts';
import { setupRoutes } from './web/routes/setup.ts';
import { tokenRoutes } from './web/routes/tokens.ts';
import { fileUploadParser, uploadRoutes } from './web/routes/uploads.ts';
import { sessions } from './web/session.ts';
import { dailyRoutes } from './web/routes/daily.ts';
import { apiDailyRoutes } from './web/routes/api-daily.ts';
import { welcomeRoutes } from './web/routes/welcome.ts';

export type { PanelOptions } from './web/context.ts';
/** For a host panel's own domain list: the same DNS dots as the Domains page (see README, "Domains page"). */
export { renderDnsDots } from './web/dns-dots.ts';
export type { DnsDot } from './dns/dots.ts';

function loginLimits(options: PanelOptions): LoginLimits {
  const perPair = options.loginAttempts ?? 5;
  return {
    perPair, perAddress: options.loginAttemptsPerAddress ?? 4 * perPair, windowMs: options.loginWindowMs ?? 15 * 60_000,
    nameDelayMs: options.loginNameDelayMs ?? 1000, maxNameWaitMs: 30_000,
  };
}

/**
 * The mountable panel: a host control panel mounts this router under a path of its own
 * (links use the mount path). Order matters: headers, body, the API token check (/api only: a
 * valid bearer token stands in for the session and needs no CSRF token; a bad one is a 401),
 * session, CSRF, then the public routes (login, language, one-time setup), the session check,
 * and the pages and API behind it.
 */
export function createPanel(app: AppContext, options: PanelOptions = {}): Router {
  const web: WebContext = {
    app,
    limiter: new LoginLimiter(loginLimits(options)),
    pageSize: options.pageSize ?? 50,
  };
  const router = express.Router();
  router.use(helmet({ strictTransportSecurity: false }));
  router.use(express.urlencoded({ extended: false, limit: '100kb' }));
  router.use(express.json({ limit: '100kb' }));
  router.use(bearerToken(app.db));
  router.use(sessions(app, { trustProxy: options.trustProxy }));
  // Import uploads are multipart: their `_csrf` field must be read before the CSRF check looks for it.
  router.use(uploadParser());
  router.use(fileUploadParser(web));
  router.use(csrf.csrfSynchronisedProtection);
  router.use(assetRoutes());
  router.use(authRoutes(web));
  router.use(setupRoutes(web));
  // The welcome letter's one-time password link is for end users, who have no admin session.
  router.use(welcomeRoutes(web));
  router.use(requireUser);
  router.use(reportRoutes(web));
  router.use(tokenRoutes(web));
  router.use(auditRoutes(web));
  router.use(workerRoutes(web));
  router.use(dashboardRoutes(web));
  router.use(projectRoutes(web));
  router.use(dailyRoutes(web));
  router.use(newProjectRoutes(web));
  router.use(importRoutes(web));
  router.use(oneClickRoutes(web));
  router.use(domainRoutes(web));
  router.use(domainsListRoutes(web));
  router.use(apiDnsRoutes(web));
  router.use(mailboxRoutes(web));
  router.use(mailboxCollectionRoutes(web));
  router.use(uploadRoutes(web));
  router.use(platformRoutes(web));
  router.use(apiPlatformRoutes(web));
  router.use(apiMailboxRoutes(web));
  router.use(apiDailyRoutes(web));
  router.use(apiRoutes(web));
  router.use(notFound);
  router.use(errorHandler(app.log));
  return router;
}
