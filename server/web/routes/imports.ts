import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import multer from 'multer';
import { MAX_IMPORT_BYTES } from '../../services/import-parse.ts';
import { csvTemplate, xlsxTemplate } from '../../services/import-template.ts';
import { commitImport, discardImport, dryRunImport } from '../../services/import.ts';
import type { WebContext } from '../context.ts';
import { webActor } from '../actions.ts';
import { importPageModel } from '../models/import.ts';
import { flash, renderPage, translator } from '../page.ts';
import { formErrorOrThrow, projectIdParam } from './projects.ts';

/** The routes that take a file: the import page's form and its API twin. */
const UPLOAD_PATHS = [/^\/projects\/\d+\/import$/, /^\/api\/projects\/\d+\/import$/];

/**
 * Reads a multipart upload ahead of the CSRF check, so that the form's `_csrf` field is in
 * `req.body` when csrf-sync looks (a form without JavaScript cannot send the header). Only POSTs
 * to the upload routes, from a logged-in admin, are read, in memory and within the size limit;
 * everything else goes on untouched, so the CSRF check still refuses any upload without a valid
 * token. A refused file (too large, too many parts) is kept for the route to explain, after the
 * CSRF check has run.
 */
export function uploadParser(): RequestHandler {
  const parse = multer({
    storage: multer.memoryStorage(),
    limits: { fileSize: MAX_IMPORT_BYTES, files: 1, fields: 8, parts: 9, fieldSize: 4096 },
    defParamCharset: 'utf8',
  }).single('file');
  return (req, res, next) => {
    if (req.method !== 'POST' || !req.is('multipart/form-data') || !req.session?.userId || !UPLOAD_PATHS.some((p) => p.test(req.path))) return next();
    parse(req, res, (err: unknown) => {
      if (err) res.locals.uploadError = err;
      next();
    });
  };
}

/** What is wrong with the upload itself, in the admin's words; null when there is a file to read. */
export function uploadProblem(req: Request, res: Response): string | null {
  const t = translator(req);
  const err = res.locals.uploadError as { code?: string } | undefined;
  if (err?.code === 'LIMIT_FILE_SIZE') return t('import.tooLarge', { mb: MAX_IMPORT_BYTES / 1024 / 1024 });
  if (err) return t('import.badUpload');
  if (!req.file || req.file.size === 0) return t('import.noFile');
  return null;
}

/** The import page: templates, the upload and its per-row dry run, and the import itself. */
export function importRoutes(web: WebContext): Router {
  const router = express.Router();

  router.get('/projects/:id/import', async (req, res) => {
    const model = await importPageModel(web.app, projectIdParam(req), translator(req));
    renderPage(req, res, 'import', model);
  });

  router.post('/projects/:id/import', async (req, res) => {
    const t = translator(req);
    const id = projectIdParam(req);
    const problem = uploadProblem(req, res);
    if (problem) { renderPage(req, res, 'import', await importPageModel(web.app, id, t, problem), 400); return; }
    try {
      const checked = await dryRunImport(web.app, id, { data: req.file!.buffer, name: req.file!.originalname }, webActor(req.session.userName));
      flash(req, checked.bad ? 'error' : 'ok', t(checked.bad ? 'import.checkedBad' : 'import.checkedClean', { total: checked.total, bad: checked.bad }));
      res.redirect(303, `${req.baseUrl}/projects/${id}/import`);
    } catch (err) {
      renderPage(req, res, 'import', await importPageModel(web.app, id, t, formErrorOrThrow(req, err)), 400);
    }
  });

  router.post('/projects/:id/import/commit', async (req, res) => {
    const t = translator(req);
    const id = projectIdParam(req);
    const importId = Number(req.body?.importId);
    try {
      const { added, dropped } = await commitImport(web.app, id, { importId: Number.isInteger(importId) && importId > 0 ? importId : undefined, dropBad: req.body?.dropBad === 'yes' }, webActor(req.session.userName));
      flash(req, 'ok', t('import.imported', { n: added.length, dropped }));
      res.redirect(303, `${req.baseUrl}/projects/${id}`);
    } catch (err) {
      flash(req, 'error', formErrorOrThrow(req, err));
      res.redirect(303, `${req.baseUrl}/projects/${id}/import`);
    }
  });

  router.post('/projects/:id/import/discard', async (req, res) => {
    const id = projectIdParam(req);
    await discardImport(web.app, id, webActor(req.session.userName));
    flash(req, 'ok', translator(req)('import.discarded'));
    res.redirect(303, `${req.baseUrl}/projects/${id}/import`);
  });

  router.get('/projects/:id/import/template.csv', (req, res) => {
    projectIdParam(req);
    res.attachment('cutover-mailboxes.csv').type('text/csv; charset=utf-8').send(csvTemplate());
  });

  router.get('/projects/:id/import/template.xlsx', async (req, res) => {
    projectIdParam(req);
    const t = translator(req);
    const help = [t('import.help.columns'), t('import.help.address'), t('import.help.sourcePassword'), t('import.help.destPassword'), t('import.help.firstSheet')];
    res.attachment('cutover-mailboxes.xlsx').type('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet').send(await xlsxTemplate(help));
  });

  return router;
}
