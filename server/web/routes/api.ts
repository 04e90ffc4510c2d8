import express, { type Router } from 'express';
import { CutoverError } from '../../errors.ts';
import { mailboxAction } from '../../services/actions.ts';
import type { WebContext } from '../context.ts';
import { BULK_ACTIONS, bulkAction, isMailboxAction, webActor } from '../actions.ts';
import { dashboardModel } from '../models/dashboard.ts';
import { mailboxPageModel } from '../models/mailbox-page.ts';
import { isState, projectPageModel } from '../models/project-page.ts';
import { languageOf } from '../page.ts';
import { mailboxId } from './mailboxes.ts';
import { projectQuery } from './projects.ts';

/**
 * The JSON API: the same models and services as the pages, behind the same session. Mutations
 * need the `X-CSRF-Token` header; GET /api/session gives it.
 */
export function apiRoutes(web: WebContext): Router {
  const router = express.Router();

  router.get('/api/session', (req, res) => {
    res.json({ user: req.session.userName, lang: languageOf(req), csrfToken: req.csrfToken!() });
  });

  router.get('/api/projects', async (_req, res) => {
    res.json((await dashboardModel(web.app)).projects);
  });

  // Also the live-progress endpoint the project page polls.
  router.get(['/api/projects/:id/progress', '/api/projects/:id/mailboxes'], async (req, res) => {
    const { state, page } = projectQuery(req);
    res.json(await projectPageModel(web.app, Number(req.params.id) || 0, { state, page, pageSize: web.pageSize }));
  });

  router.post('/api/projects/:id/actions/:action', async (req, res) => {
    const action = req.params.action;
    if (!isMailboxAction(action, BULK_ACTIONS)) throw new CutoverError('INPUT_INVALID', { detail: `unknown bulk action ${action}` });
    const state = isState(req.body?.state) ? req.body.state : undefined;
    res.json(await bulkAction(web.app, Number(req.params.id) || 0, action, state, webActor(req.session.userName)));
  });

  router.get('/api/mailboxes/:id', async (req, res) => {
    res.json(await mailboxPageModel(web.app, mailboxId(req)));
  });

  router.post('/api/mailboxes/:id/actions/:action', async (req, res) => {
    const action = req.params.action;
    if (!isMailboxAction(action)) throw new CutoverError('INPUT_INVALID', { detail: `unknown action ${action}` });
    const row = await mailboxAction(web.app, String(mailboxId(req)), action, webActor(req.session.userName));
    res.json({ id: row.id, address: row.address, state: row.state, step: row.step });
  });

  return router;
}
