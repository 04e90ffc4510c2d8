import express, { type Request, type Response, type Router } from 'express';
import { CutoverError } from '../../errors.ts';
import type { WebContext } from '../context.ts';
import { mailboxReportModel, projectReportModel } from '../models/report.ts';
import { mailboxReportCsv, projectReportCsv, reportFileName } from '../models/report-csv.ts';
import { mailboxReportPage, projectReportPage } from '../models/report-page.ts';
import { renderPage, translator } from '../page.ts';
import { mailboxId } from './mailboxes.ts';

const SKIPS_SHOWN = 200;

function projectId(req: Request): number {
  const id = Number(req.params.id);
  if (!Number.isInteger(id) || id <= 0) throw new CutoverError('PROJECT_UNKNOWN', { name: String(req.params.id) });
  return id;
}

function download(res: Response, fileName: string, type: 'csv' | 'json', body: string): void {
  // A fixed file name made of safe characters (reportFileName), so the header needs no escaping.
  res.set('Content-Disposition', `attachment; filename="${fileName}"`);
  res.set('Cache-Control', 'no-store');
  res.type(type === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8').send(body);
}

/** Reports of a project and of a mailbox: pages, CSV and JSON downloads, and the same JSON under /api. */
export function reportRoutes(web: WebContext): Router {
  const router = express.Router();

  router.get('/projects/:id/report', async (req, res) => {
    const model = await projectReportModel(web.app, projectId(req));
    const page = Number.parseInt(String(req.query.page ?? '1'), 10);
    const view = projectReportPage(model, Number.isFinite(page) ? page : 1, web.pageSize);
    const link = (p: number) => `${req.baseUrl}/projects/${model.project.id}/report?page=${p}`;
    renderPage(req, res, 'report', {
      title: translator(req)('report.title', { name: model.project.name }), ...view,
      previous: view.page > 1 ? link(view.page - 1) : null, next: view.page < view.pages ? link(view.page + 1) : null,
    });
  });

  router.get('/projects/:id/report.csv', async (req, res) => {
    const model = await projectReportModel(web.app, projectId(req));
    download(res, reportFileName(model.project.name, model.generatedAt, 'csv'), 'csv', projectReportCsv(model));
  });

  router.get('/projects/:id/report.json', async (req, res) => {
    const model = await projectReportModel(web.app, projectId(req));
    download(res, reportFileName(model.project.name, model.generatedAt, 'json'), 'json', JSON.stringify(model, null, 2));
  });

  router.get('/mailboxes/:id/report', async (req, res) => {
    const model = await mailboxReportModel(web.app, mailboxId(req), { skipsLimit: SKIPS_SHOWN });
    renderPage(req, res, 'mailbox-report', { title: translator(req)('report.mailboxTitle', { address: model.mailbox.newAccount }), ...mailboxReportPage(model) });
  });

  router.get('/mailboxes/:id/report.csv', async (req, res) => {
    const model = await mailboxReportModel(web.app, mailboxId(req));
    download(res, reportFileName(model.mailbox.newAccount, model.generatedAt, 'csv'), 'csv', mailboxReportCsv(model));
  });

  router.get('/mailboxes/:id/report.json', async (req, res) => {
    const model = await mailboxReportModel(web.app, mailboxId(req));
    download(res, reportFileName(model.mailbox.newAccount, model.generatedAt, 'json'), 'json', JSON.stringify(model, null, 2));
  });

  router.get('/api/projects/:id/report', async (req, res) => {
    res.json(await projectReportModel(web.app, projectId(req)));
  });

  router.get('/api/mailboxes/:id/report', async (req, res) => {
    res.json(await mailboxReportModel(web.app, mailboxId(req)));
  });

  return router;
}
