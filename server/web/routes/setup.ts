import express, { type Request, type Response, type Router } from 'express';
import { recordAudit } from '../../db/repos/audit.ts';
import { countUsers, insertUser, USER_NAME } from '../../db/repos/users.ts';
import type { WebContext } from '../context.ts';
import { isDirectLoopback } from '../guard.ts';
import { flash, renderPage, translator } from '../page.ts';
import { hashPassword, MIN_PASSWORD_LENGTH } from '../passwords.ts';
import { logIn } from './auth.ts';

export const SETUP_COMMAND = 'npx cutover admin create NAME';

/**
 * The one-time setup page: creates the first admin from a browser on the server itself. It exists
 * only while there is no admin (404 afterwards, for everyone) and only for a direct loopback
 * client (403 with the CLI command otherwise); the form is CSRF-protected like any other.
 */
export function setupRoutes(web: WebContext): Router {
  const router = express.Router();

  // Answers the request itself (404/403) and returns false when the page is not available to it.
  const available = async (req: Request, res: Response): Promise<boolean> => {
    const t = translator(req);
    if ((await countUsers(web.app.db)) > 0) {
      renderPage(req, res, 'message', { title: t('notFound.title'), text: t('notFound.text') }, 404);
      return false;
    }
    if (!isDirectLoopback(req)) {
      renderPage(req, res, 'message', { title: t('setup.title'), text: t('setup.remote', { command: SETUP_COMMAND }) }, 403);
      return false;
    }
    return true;
  };

  const form = (req: Request, res: Response, status = 200, error?: string) => {
    renderPage(req, res, 'setup', { title: translator(req)('setup.title'), min: MIN_PASSWORD_LENGTH, name: typeof req.body?.name === 'string' ? req.body.name : '', error }, status);
  };

  router.get('/setup', async (req, res) => {
    if (await available(req, res)) form(req, res);
  });

  router.post('/setup', async (req, res) => {
    if (!(await available(req, res))) return;
    const t = translator(req);
    const name = String(req.body?.name ?? '').trim().toLowerCase();
    const password = String(req.body?.password ?? '');
    if (!USER_NAME.test(name)) { form(req, res, 400, t('setup.badName')); return; }
    if (password.length < MIN_PASSWORD_LENGTH) { form(req, res, 400, t('setup.tooShort', { min: MIN_PASSWORD_LENGTH })); return; }
    if (password !== String(req.body?.password2 ?? '')) { form(req, res, 400, t('setup.mismatch')); return; }
    const passwordHash = await hashPassword(password);
    // Counted again inside the transaction: two setup forms posted at once make one admin, not two.
    const id = await web.app.db.transaction(async (trx) => ((await countUsers(trx)) === 0 ? insertUser(trx, name, passwordHash) : undefined));
    if (id === undefined) { renderPage(req, res, 'message', { title: t('notFound.title'), text: t('notFound.text') }, 404); return; }
    await recordAudit(web.app.db, { actor: `web:${name}`, action: 'setup', target: `admin ${name}`, detail: `first admin created from the setup page (${req.socket.remoteAddress})` });
    web.app.log.info({ name }, 'first admin created from the setup page');
    await logIn(req, { id, name });
    flash(req, 'ok', t('setup.done', { name }));
    res.redirect(303, `${req.baseUrl}/`);
  });

  return router;
}
