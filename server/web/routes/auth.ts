import express, { type Request, type Router } from 'express';
import { countUsers, setUserLanguage, userByName } from '../../db/repos/users.ts';
import type { WebContext } from '../context.ts';
import { isLanguage } from '../i18n.ts';
import { flash, renderPage, safeBack, translator } from '../page.ts';
import { checkPassword, decoyHash } from '../passwords.ts';

function regenerate(req: Request): Promise<void> {
  return new Promise((resolve, reject) => req.session.regenerate((err) => (err ? reject(err) : resolve())));
}

/** Login, logout and the language switch: the only routes reachable without a session (logout and language need CSRF). */
export function authRoutes(web: WebContext): Router {
  const router = express.Router();

  const loginPage = async (req: Request, res: express.Response, status = 200, error?: string) => {
    const t = translator(req);
    const noAdmin = (await countUsers(web.app.db)) === 0;
    renderPage(req, res, 'login', { title: t('login.title'), error, noAdmin, name: typeof req.body?.name === 'string' ? req.body.name : '', next: req.query.next ?? req.body?.next ?? '' }, status);
  };

  router.get('/login', async (req, res) => {
    if (req.session.userId) { res.redirect(303, `${req.baseUrl}/`); return; }
    await loginPage(req, res);
  });

  router.post('/login', async (req, res) => {
    const t = translator(req);
    const name = String(req.body?.name ?? '').trim().toLowerCase();
    const password = String(req.body?.password ?? '');
    const keys = [`ip:${req.ip}`, `name:${name}`];
    const wait = Math.max(...keys.map((k) => web.limiter.retryAfter(k)));
    if (wait > 0) {
      res.set('Retry-After', String(Math.ceil(wait / 1000)));
      await loginPage(req, res, 429, t('login.rateLimited', { minutes: Math.ceil(wait / 60_000) }));
      return;
    }
    const user = await userByName(web.app.db, name);
    const ok = await checkPassword(user?.password_hash ?? await decoyHash(), password) && !!user;
    if (!ok) {
      for (const k of keys) web.limiter.fail(k);
      web.app.log.warn({ name, ip: req.ip }, 'panel login refused');
      await loginPage(req, res, 401, t('login.failed'));
      return;
    }
    for (const k of keys) web.limiter.clear(k);
    const lang = req.session.lang;
    await regenerate(req); // a new session id on login: no fixation
    req.session.userId = user.id;
    req.session.userName = user.name;
    req.session.lang = isLanguage(user.language) ? user.language : lang;
    web.app.log.info({ name: user.name, ip: req.ip }, 'panel login');
    res.redirect(303, safeBack(req, req.body?.next));
  });

  router.post('/logout', (req, res, next) => {
    const lang = req.session.lang;
    req.session.regenerate((err) => {
      if (err) return next(err);
      req.session.lang = lang;
      flash(req, 'ok', translator(req)('logout.done'));
      res.redirect(303, `${req.baseUrl}/login`);
    });
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
