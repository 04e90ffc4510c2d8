import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { CutoverError } from '../../errors.ts';
import { mailboxAction } from '../../services/actions.ts';
import { planDomainMigration } from '../../services/domain-plan.ts';
import { MAX_IMPORT_ROWS } from '../../services/import-parse.ts';
import { commitImport, dryRunImport, importRows, pendingImport, type ImportRowView } from '../../services/import.ts';
import { RowsInvalidError, type CheckedRow } from '../../services/mailbox-rows.ts';
import { completeProject, removeProject, startProject, stopProject } from '../../services/project-lifecycle.ts';
import { addMailboxes } from '../../services/project-mailboxes.ts';
import { projectStatistics } from '../../services/project-stats.ts';
import { createDomainMigration, createProject } from '../../services/projects.ts';
import type { WebContext } from '../context.ts';
import { BULK_ACTIONS, bulkAction, isMailboxAction, webActor } from '../actions.ts';
import { errorText } from '../errors.ts';
import { dashboardModel } from '../models/dashboard.ts';
import { problemText } from '../models/import.ts';
import { mailboxPageModel } from '../models/mailbox-page.ts';
import { isState, projectPageModel } from '../models/project-page.ts';
import { languageOf, translator } from '../page.ts';
import { uploadProblem } from './imports.ts';
import { mailboxId } from './mailboxes.ts';
import { projectIdParam, projectQuery, statusOfError } from './projects.ts';

const newProjectBody = z.object({ name: z.string(), source: z.string(), destination: z.string(), options: z.record(z.string(), z.unknown()).optional() });
const mailboxRow = z.object({ address: z.string().max(320), sourceLogin: z.string().max(320).optional(), sourcePassword: z.string().optional(), destLogin: z.string().max(320).optional(), destPassword: z.string().optional() });
const mailboxesBody = z.union([z.array(mailboxRow), z.object({ mailboxes: z.array(mailboxRow) }).transform((b) => b.mailboxes)]);
const migrationBody = z.object({ source: z.string(), destination: z.string(), domain: z.string(), name: z.string().optional(), options: z.record(z.string(), z.unknown()).optional() });

/** Reads a JSON body against its schema; a mismatch is the caller's mistake, named field by field. */
function body<T>(schema: z.ZodType<T>, req: Request): T {
  const parsed = schema.safeParse(req.body ?? {});
  if (!parsed.success) throw new CutoverError('INPUT_INVALID', { detail: parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ') });
  return parsed.data;
}

function flagged(value: unknown): boolean {
  return value === '1' || value === 'true' || value === 'yes';
}

/** A checked row as the API answers it: the problems with their codes, parameters and words, never a password. */
function rowJson(req: Request, row: CheckedRow | ImportRowView) {
  const t = translator(req);
  const words = (p: { code: string; params: Record<string, string | number> }) => ({ ...p, message: problemText(t, p) });
  // Whether each password was given (a checked row holds it, a stored one says so), never its value.
  return { line: row.line, address: row.address, sourcePassword: Boolean(row.sourcePassword), destPassword: Boolean(row.destPassword), errors: row.errors.map(words), warnings: row.warnings.map(words) };
}

/**
 * The JSON API: the same models and services as the pages, behind the same session (or an API
 * token). Mutations need the `X-CSRF-Token` header with a session; GET /api/session gives it.
 */
export function apiRoutes(web: WebContext): Router {
  const router = express.Router();
  const actor = (req: Request) => webActor(req.session.userName);
  const allRows = async (req: Request, importId: number) => {
    const rows = [...await importRows(web.app, importId, { bad: true, limit: MAX_IMPORT_ROWS }), ...await importRows(web.app, importId, { bad: false, limit: MAX_IMPORT_ROWS })];
    return rows.sort((a, b) => a.line - b.line).map((r) => rowJson(req, r));
  };

  router.get('/api/session', (req, res) => {
    res.json({ user: req.session.userName, lang: languageOf(req), csrfToken: req.csrfToken?.() ?? null });
  });

  router.get('/api/projects', async (_req, res) => {
    res.json((await dashboardModel(web.app)).projects);
  });

  router.post('/api/projects', async (req, res) => {
    const input = body(newProjectBody, req);
    const project = await createProject(web.app, { ...input, actor: actor(req) });
    res.status(201).json({ id: project.id, name: project.name, state: project.state, options: JSON.parse(project.options) });
  });

  router.delete('/api/projects/:id', async (req, res) => {
    res.json(await removeProject(web.app, projectIdParam(req), actor(req)));
  });

  // Also the live-progress endpoint the project page polls.
  router.get(['/api/projects/:id/progress', '/api/projects/:id/mailboxes'], async (req, res) => {
    const { state, page } = projectQuery(req);
    res.json(await projectPageModel(web.app, Number(req.params.id) || 0, { state, page, pageSize: web.pageSize }));
  });

  router.get('/api/projects/:id/stats', async (req, res) => {
    res.json(await projectStatistics(web.app, projectIdParam(req)));
  });

  // All or nothing: any bad row refuses the batch, and the 400 lists every row's problems.
  router.post('/api/projects/:id/mailboxes', async (req, res) => {
    const rows = body(mailboxesBody, req);
    if (rows.length > MAX_IMPORT_ROWS) throw new CutoverError('INPUT_INVALID', { detail: `at most ${MAX_IMPORT_ROWS} mailboxes per request` });
    const added = await addMailboxes(web.app, projectIdParam(req), rows.map((r, i) => ({ ...r, line: i + 1 })), actor(req), 'through the API');
    res.status(201).json({ added });
  });

  router.post('/api/projects/:id/start', async (req, res) => { res.json(await startProject(web.app, projectIdParam(req), actor(req))); });
  router.post('/api/projects/:id/stop', async (req, res) => { res.json(await stopProject(web.app, projectIdParam(req), actor(req))); });
  router.post('/api/projects/:id/complete', async (req, res) => { res.json(await completeProject(web.app, projectIdParam(req), actor(req))); });

  router.get('/api/projects/:id/import', async (req, res) => {
    const pending = await pendingImport(web.app, projectIdParam(req));
    res.json({ import: pending, rows: pending ? await allRows(req, pending.id) : [] });
  });

  /**
   * Upload (multipart, field `file`) and dry run; `?commit=1` imports at once when the file is
   * clean, `&dropBad=1` imports its clean rows anyway. A refused commit keeps the dry run, which
   * POST …/import/commit can take later.
   */
  router.post('/api/projects/:id/import', async (req, res) => {
    const id = projectIdParam(req);
    const problem = uploadProblem(req, res);
    if (problem) throw new CutoverError('INPUT_INVALID', { detail: problem });
    const pending = await dryRunImport(web.app, id, { data: req.file!.buffer, name: req.file!.originalname }, actor(req));
    if (!flagged(req.query.commit)) { res.json({ import: pending, rows: await allRows(req, pending.id) }); return; }
    const dropBad = flagged(req.query.dropBad);
    if (pending.bad > 0 && !dropBad) {
      const bad = (await importRows(web.app, pending.id, { bad: true, limit: MAX_IMPORT_ROWS })).map((r) => rowJson(req, r));
      res.status(400).json({ error: { code: 'INPUT_INVALID', message: `${pending.bad} row(s) have problems: nothing was imported (add dropBad=1 to import the others)`, import: pending, rows: bad } });
      return;
    }
    res.status(201).json({ import: pending, ...await commitImport(web.app, id, { importId: pending.id, dropBad }, actor(req)) });
  });

  router.post('/api/projects/:id/import/commit', async (req, res) => {
    const importId = Number(req.body?.importId);
    const result = await commitImport(web.app, projectIdParam(req), { importId: Number.isInteger(importId) && importId > 0 ? importId : undefined, dropBad: req.body?.dropBad === true || flagged(req.body?.dropBad) }, actor(req));
    res.status(201).json(result);
  });

  router.post('/api/projects/:id/actions/:action', async (req, res) => {
    const action = req.params.action;
    if (!isMailboxAction(action, BULK_ACTIONS)) throw new CutoverError('INPUT_INVALID', { detail: `unknown bulk action ${action}` });
    const state = isState(req.body?.state) ? req.body.state : undefined;
    res.json(await bulkAction(web.app, projectIdParam(req), action, state, actor(req)));
  });

  router.post('/api/migrate/plan', async (req, res) => {
    const input = body(migrationBody, req);
    res.json(await planDomainMigration(web.app, { from: input.source, to: input.destination, domain: input.domain }));
  });

  router.post('/api/migrate', async (req, res) => {
    const input = body(migrationBody, req);
    const created = await createDomainMigration(web.app, { from: input.source, to: input.destination, domain: input.domain, name: input.name, options: input.options, actor: actor(req) });
    res.status(201).json(created);
  });

  router.get('/api/mailboxes/:id', async (req, res) => {
    res.json(await mailboxPageModel(web.app, mailboxId(req)));
  });

  router.post('/api/mailboxes/:id/actions/:action', async (req, res) => {
    const action = req.params.action;
    if (!isMailboxAction(action)) throw new CutoverError('INPUT_INVALID', { detail: `unknown action ${action}` });
    const row = await mailboxAction(web.app, String(mailboxId(req)), action, actor(req));
    res.json({ id: row.id, address: row.address, state: row.state, step: row.step });
  });

  // Refusals of the routes above, with the status their code calls for and, for rows, each row's problems.
  router.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    const status = err instanceof CutoverError ? statusOfError(err) : undefined;
    if (!(err instanceof CutoverError) || status === undefined) return next(err);
    res.status(status).json({ error: { code: err.code, message: errorText(req, err), ...(err instanceof RowsInvalidError && { rows: err.rows.filter((r) => r.errors.length > 0).map((r) => rowJson(req, r)) }) } });
  });

  return router;
}
