import express, { type Router } from 'express';
import type { WebContext } from '../context.ts';
import { auditPageModel } from '../models/audit.ts';
import { renderPage, translator } from '../page.ts';

/** The audit trail: who did what and when, newest first, paginated. */
export function auditRoutes(web: WebContext): Router {
  const router = express.Router();
  router.get('/audit', async (req, res) => {
    const requested = Number.parseInt(String(req.query.page ?? '1'), 10);
    const model = await auditPageModel(web.app.db, { page: Number.isFinite(requested) ? requested : 1, pageSize: web.pageSize });
    const link = (p: number) => `${req.baseUrl}/audit?page=${p}`;
    renderPage(req, res, 'audit', {
      title: translator(req)('audit.title'), ...model,
      previous: model.page > 1 ? link(model.page - 1) : null, next: model.page < model.pages ? link(model.page + 1) : null,
    });
  });
  return router;
}
