import { setTimeout } from 'node:timers/promises';
import express, { type Request, type Router } from 'express';
import { recordAudit } from '../../db/repos/audit.ts';
import { loggedInBefore } from '../../services/login-history.ts';
import { countUsers, setUserLanguage, userByName } from '../../db/repos/users.ts';
import type { WebContext } from '../context.ts';
import { isDirectLoopback } from '../guard.ts';
import { isLanguage } from '../i18n.ts';
import { flash, renderPage, safeBack, translator } from '../page.ts';
import { checkPassword, decoyHash } from '../passwords.ts';

function regenerate(req: Request): Promise<void> {
  return new Promise((resolve, reject) => req.session.regenerate((err) => (err ? reject(err) : resolve())));
}

/** Starts an admin's session under a new session id (no fixation), keeping the language chosen before. */
export async function logIn(req: Request, user: { id: number; name: string; language?: string | null }): Promise<void> {
  const lang = req.session.lang;
  await regenerate(req);
  req.session.userId = user.id;
  req.session.userName = user.name;
  req.session.lang = isLanguage(user.language) ? user.language : lang;
  const zone = (user as { time_zone?: string | null }).time_zone;
  if (zone) req.session.timeZone = zone;
}

/** Login, logout and the language switch: the only routes reachable without a session (logout and language need CSRF). */
export function authRoutes(web: WebContext): Router {
  const router = express.Router();
  const audit = (actor: string, action: string, target: string, detail: string) => recordAudit(web.app.db, { actor, action, target, detail });

  const loginPage = async (req: Request, res: express.Response, status = 200, error?: string) => {
    const t = translator(req);
    const noAdmin = (await countUsers(web.app.db)) === 0;
    renderPage(req, res, 'login', {
      title: t('login.title'), error, noAdmin, setup: noAdmin && isDirectLoopback(req),
      name: typeof req.body?.name === 'string' ? req.body.name : '', next: req.query.next ?? req.body?.next ?? '',
    }, status);
  };

  router.get('/login', async (req, res) => {
    if (req.session.userId) { res.redirect(303, `${req.baseUrl}/`); return; }
    await loginPage(req, res);
  });

  router.post('/login', async (req, res) => {
    const t = translator(req);
    const name = String(req.body?.name ?? '').trim().toLowerCase();
    const password = String(req.body?.password ?? '');
    const address = req.ip ?? '';
    // Looked up only while the name is under attack; the reservation below is what holds parallel guesses.
    if (web.limiter.isSlowed(name) && !web.limiter.isKnownGood(name, address) && await loggedInBefore(web.app.db, name, address)) web.limiter.rememberGood(name, address);
    const ticket = web.limiter.reserve(name, address);
    if (!ticket.allowed) {
      res.set('Retry-After', String(Math.ceil(ticket.retryAfterMs / 1000)));
      await loginPage(req, res, 429, t('login.rateLimited', { minutes: Math.ceil(ticket.retryAfterMs / 60_000) }));
      return;
    }
    if (ticket.delayMs > 0) await setTimeout(ticket.delayMs);
    const user = await userByName(web.app.db, name);
    const ok = await checkPassword(user?.password_hash ?? await decoyHash(), password) && !!user;
    if (!ok) {
      web.app.log.warn({ name: name.slice(0, 64), ip: address }, 'panel login refused');
      // The rate limit bounds how many of these one address can write.
      await audit(`ip:${address}`, 'login.failed', `admin ${name.slice(0, 64)}`, user ? 'wrong password' : 'no such admin');
      await loginPage(req, res, 401, t('login.failed'));
      return;
    }
    ticket.succeeded();
    await logIn(req, user);
    web.app.log.info({ name: user.name, ip: req.ip }, 'panel login');
    await audit(`web:${user.name}`, 'login', `admin ${user.name}`, `from ${req.ip}`);
    res.redirect(303, safeBack(req, req.body?.next));
  });

  router.post('/logout', async (req, res) => {
    const lang = req.session.lang;
    const name = req.session.userName;
    await regenerate(req);
    if (name) await audit(`web:${name}`, 'logout', `admin ${name}`, `from ${req.ip}`);
    req.session.lang = lang;
    flash(req, 'ok', translator(req)('logout.done'));
    res.redirect(303, `${req.baseUrl}/login`);
  });

  router.post('/language', async (req, res) => {
    if (isLanguage(req.body?.lang)) {
      req.session.lang = req.body.lang;
      if (req.session.userId) await setUserLanguage(web.app.db, req.session.userId, req.body.lang);
    }
    res.redirect(303, safeBack(req, req.body?.back));
  });

  return router;
}
