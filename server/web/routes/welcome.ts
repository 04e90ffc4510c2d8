import express, { type Router } from 'express';
import { consumeLink, linkIsLive } from '../../daily/letters.ts';
import type { WebContext } from '../context.ts';
import { renderPage, translator } from '../page.ts';

/**
 * The welcome letter's one-time link, reachable without an admin session. Opening the link shows
 * only a button: mail scanners that fetch links do not use it up. The POST (CSRF-protected like
 * every form) uses the link and shows the generated password once.
 */
export function welcomeRoutes(web: WebContext): Router {
  const router = express.Router();
  router.get('/welcome/:token', async (req, res) => {
    const t = translator(req);
    const live = await linkIsLive(web.app.db, String(req.params.token));
    res.set('Cache-Control', 'no-store').set('Referrer-Policy', 'no-referrer');
    renderPage(req, res, 'welcome', { title: t('welcome.title'), live: undefined, token: live ? req.params.token : null }, live ? 200 : 410);
  });
  router.post('/welcome/:token', async (req, res) => {
    const t = translator(req);
    res.set('Cache-Control', 'no-store').set('Referrer-Policy', 'no-referrer');
    let mailboxId: number;
    try {
      mailboxId = await consumeLink(web.app.db, String(req.params.token));
    } catch {
      renderPage(req, res, 'welcome', { title: t('welcome.title'), token: null }, 410);
      return;
    }
    const row = await web.app.db('mailboxes').where({ id: mailboxId }).first('address', 'dest_password_sealed');
    const password = row?.dest_password_sealed ? web.app.box.open(row.dest_password_sealed) : null;
    renderPage(req, res, 'welcome', { title: t('welcome.title'), token: null, shown: password ? { address: row.address, password } : null }, password ? 200 : 410);
  });
  return router;
}
