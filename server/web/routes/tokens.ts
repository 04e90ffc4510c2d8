import express, { type Request, type Response, type Router } from 'express';
import { recordAudit } from '../../db/repos/audit.ts';
import { CutoverError } from '../../errors.ts';
import { createToken, listTokens, revokeToken, TOKEN_NAME } from '../../services/tokens.ts';
import { webActor } from '../actions.ts';
import type { WebContext } from '../context.ts';
import { flash, renderPage, translator } from '../page.ts';

/** The API tokens page: list, create (the token is shown in the answer to the POST, once), revoke. */
export function tokenRoutes(web: WebContext): Router {
  const router = express.Router();

  const page = async (req: Request, res: Response, extra: Record<string, unknown> = {}, status = 200) => {
    renderPage(req, res, 'tokens', { title: translator(req)('tokens.title'), tokens: await listTokens(web.app.db), ...extra }, status);
  };

  router.get('/settings/tokens', async (req, res) => { await page(req, res); });

  router.post('/settings/tokens', async (req, res) => {
    const t = translator(req);
    const name = String(req.body?.name ?? '').trim();
    if (!TOKEN_NAME.test(name)) { await page(req, res, { error: t('tokens.badName'), name }, 400); return; }
    const { id, token } = await createToken(web.app.db, req.session.userName!, name);
    await recordAudit(web.app.db, { actor: webActor(req.session.userName), action: 'token.create', target: `token #${id} ${name}`, detail: `for ${req.session.userName}` });
    // Rendered, not redirected: a redirect would have to carry the token through the session store.
    res.set('Cache-Control', 'no-store');
    await page(req, res, { created: { name, token } }, 201);
  });

  router.post('/settings/tokens/:id/revoke', async (req, res) => {
    const t = translator(req);
    const id = Number(req.params.id);
    try {
      const line = await revokeToken(web.app.db, Number.isInteger(id) ? id : 0);
      await recordAudit(web.app.db, { actor: webActor(req.session.userName), action: 'token.revoke', target: `token #${line.id} ${line.name}`, detail: `of ${line.user}` });
      flash(req, 'ok', t('tokens.revoked', { name: line.name }));
    } catch (err) {
      if (!(err instanceof CutoverError) || err.code !== 'INPUT_INVALID') throw err;
      flash(req, 'error', t('tokens.unknown'));
    }
    res.redirect(303, `${req.baseUrl}/settings/tokens`);
  });

  return router;
}
