import express, { type Router } from 'express';
import { planDomainMigration } from '../../services/domain-plan.ts';
import { parsePastedAccounts } from '../../services/import-parse.ts';
import { createDomainMigration } from '../../services/projects.ts';
import type { WebContext } from '../context.ts';
import { webActor } from '../actions.ts';
import { oneClickModel, pastedAccounts, readOneClickForm, type OneClickForm } from '../models/one-click.ts';
import { flash, renderPage, translator } from '../page.ts';
import { formErrorOrThrow } from './projects.ts';

/** One-click migration of a domain: choose, look at the plan, confirm. */
export function oneClickRoutes(web: WebContext): Router {
  const router = express.Router();
  const accountsOf = async (form: OneClickForm) => {
    const list = pastedAccounts(web.app, form);
    return list === undefined ? undefined : parsePastedAccounts(list);
  };

  router.get('/migrate', async (req, res) => {
    renderPage(req, res, 'migrate', await oneClickModel(web.app, translator(req), readOneClickForm(req.query as Record<string, unknown>)));
  });

  router.post('/migrate/plan', async (req, res) => {
    const t = translator(req);
    const form = readOneClickForm(req.body);
    try {
      const plan = await planDomainMigration(web.app, { from: form.source, to: form.destination, domain: form.domain, accounts: await accountsOf(form) });
      renderPage(req, res, 'migrate', await oneClickModel(web.app, t, form, { plan }));
    } catch (err) {
      renderPage(req, res, 'migrate', await oneClickModel(web.app, t, form, { error: formErrorOrThrow(req, err) }), 400);
    }
  });

  router.post('/migrate', async (req, res) => {
    const t = translator(req);
    const form = readOneClickForm(req.body);
    try {
      const created = await createDomainMigration(web.app, {
        from: form.source, to: form.destination, domain: form.domain, name: form.name || undefined,
        options: { startMode: form.startMode }, accounts: await accountsOf(form), actor: webActor(req.session.userName),
      });
      flash(req, 'ok', t('migrate.created', { name: created.name, n: created.mailboxes.length }));
      res.redirect(303, `${req.baseUrl}/projects/${created.projectId}`);
    } catch (err) {
      renderPage(req, res, 'migrate', await oneClickModel(web.app, t, form, { error: formErrorOrThrow(req, err) }), 400);
    }
  });

  return router;
}
