import express, { type Request, type Router } from 'express';
import type { WebContext } from '../context.ts';
import { BULK_ACTIONS, bulkAction, isMailboxAction, webActor } from '../actions.ts';
import { isState, projectPageModel, STATES } from '../models/project-page.ts';
import { flash, renderPage, safeBack, translator } from '../page.ts';

export function projectQuery(req: Request) {
  const state = isState(req.query.state) ? req.query.state : null;
  const page = Number.parseInt(String(req.query.page ?? '1'), 10);
  return { state, page: Number.isFinite(page) ? page : 1 };
}

function projectId(req: Request): number {
  const id = Number(req.params.id);
  return Number.isInteger(id) && id > 0 ? id : 0;
}

/** The project page: one row per mailbox, filtered and paginated in SQL, with bulk actions. */
export function projectRoutes(web: WebContext): Router {
  const router = express.Router();

  router.get('/projects/:id', async (req, res) => {
    const t = translator(req);
    const { state, page } = projectQuery(req);
    const model = await projectPageModel(web.app, projectId(req), { state, page, pageSize: web.pageSize });
    const link = (p: number) => `${req.baseUrl}/projects/${model.project.id}?${new URLSearchParams({ ...(state && { state }), page: String(p) })}`;
    renderPage(req, res, 'project', {
      title: t('project.title', { name: model.project.name }),
      live: `${req.baseUrl}/api/projects/${model.project.id}/progress?${new URLSearchParams({ ...(state && { state }), page: String(model.page) })}`,
      ...model,
      states: STATES.map((s) => ({ state: s, selected: s === state })),
      bulkActions: BULK_ACTIONS,
      previous: model.page > 1 ? link(model.page - 1) : null,
      next: model.page < model.pages ? link(model.page + 1) : null,
    });
  });

  router.post('/projects/:id/actions', async (req, res) => {
    const t = translator(req);
    const id = projectId(req);
    const action = req.body?.action;
    const state = isState(req.body?.state) ? req.body.state : undefined;
    if (!isMailboxAction(action, BULK_ACTIONS)) { res.status(400); flash(req, 'error', `${action}?`); res.redirect(303, safeBack(req, req.body?.back)); return; }
    const { done, skipped } = await bulkAction(web.app, id, action, state, webActor(req.session.userName));
    flash(req, 'ok', t('project.bulkDone', { action: t(`action.${action}`), done, skipped }));
    res.redirect(303, safeBack(req, req.body?.back ?? `${req.baseUrl}/projects/${id}`));
  });

  return router;
}
