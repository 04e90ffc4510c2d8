import express, { type Request, type Router } from 'express';
import { CutoverError, type ErrorCode } from '../../errors.ts';
import { completeProject, projectControls, removeProject, startProject } from '../../services/project-lifecycle.ts';
import type { WebContext } from '../context.ts';
import { BULK_ACTIONS, bulkAction, isMailboxAction, webActor } from '../actions.ts';
import { errorText } from '../errors.ts';
import { isState, projectPageModel, STATES } from '../models/project-page.ts';
import { flash, languageOf, renderPage, safeBack, translator } from '../page.ts';
import { projectDailyModel } from '../models/project-daily.ts';

export function projectQuery(req: Request) {
  const state = isState(req.query.state) ? req.query.state : null;
  const page = Number.parseInt(String(req.query.page ?? '1'), 10);
  return { state, page: Number.isFinite(page) ? page : 1 };
}

/** The project named by `:id`; anything but a positive whole number is an unknown project (a 404). */
export function projectIdParam(req: Request): number {
  const raw = String(req.params.id);
  if (!/^\d+$/.test(raw) || Number(raw) <= 0) throw new CutoverError('PROJECT_UNKNOWN', { name: raw });
  return Number(raw);
}

// What a refused request answers, pages and API alike: the admin's mistake (400), a state that
// forbids it now (409), a platform that failed to answer (502).
const STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
  INPUT_INVALID: 400, PROJECT_EXISTS: 409, PROJECT_BUSY: 409, ACTION_NOT_ALLOWED: 409, MAILBOX_BUSY: 409,
  PROJECT_UNKNOWN: 404, MAILBOX_UNKNOWN: 404, PLATFORM_UNKNOWN: 400, DOMAIN_UNKNOWN: 400, DOMAIN_NO_ACCOUNTS: 400,
  DNS_PROVIDER_UNSUITABLE: 400, CONFIG_INVALID: 400,
  HOST_UNREACHABLE: 502, AUTH_FAILED: 502, TLS_FAILED: 502, PLATFORM_FAILED: 502, API_CREDENTIAL_INVALID: 502, API_CALL_NOT_GRANTED: 502,
};

export function statusOfError(err: CutoverError): number | undefined {
  return STATUS_BY_CODE[err.code];
}

/**
 * A refusal a form shows next to what the admin typed, in their words; null for errors that are
 * not about the form (an unknown project is a 404 page, a bug a 500), which the caller rethrows.
 */
export function formErrorText(req: Request, err: unknown): string | null {
  if (!(err instanceof CutoverError) || err.code === 'PROJECT_UNKNOWN' || statusOfError(err) === undefined) return null;
  return errorText(req, err);
}

/** {@link formErrorText}, rethrowing what is not for the form. */
export function formErrorOrThrow(req: Request, err: unknown): string {
  const text = formErrorText(req, err);
  if (text === null) throw err;
  return text;
}

/** The project page: one row per mailbox, filtered and paginated in SQL, with bulk and project-wide actions. */
export function projectRoutes(web: WebContext): Router {
  const router = express.Router();

  router.get('/projects/:id', async (req, res, next) => {
    // `/projects/new` and other named pages live in their own routers.
    if (!/^\d+$/.test(String(req.params.id))) return next();
    const t = translator(req);
    const { state, page } = projectQuery(req);
    const model = await projectPageModel(web.app, projectIdParam(req), { state, page, pageSize: web.pageSize });
    const link = (p: number) => `${req.baseUrl}/projects/${model.project.id}?${new URLSearchParams({ ...(state && { state }), page: String(p) })}`;
    const controls = await projectControls(web.app, model.project.id);
    const daily = await projectDailyModel(web.app, model.project.id, languageOf(req), req.session.timeZone);
    renderPage(req, res, 'project', {
      title: t('project.title', { name: model.project.name }),
      live: `${req.baseUrl}/api/projects/${model.project.id}/progress?${new URLSearchParams({ ...(state && { state }), page: String(model.page) })}`,
      ...model,
      daily,
      controls: { ...controls, completed: controls.state === 'completed', canStart: controls.state === 'active' && controls.notStarted > 0 },
      states: STATES.map((s) => ({ state: s, selected: s === state })),
      bulkActions: BULK_ACTIONS,
      previous: model.page > 1 ? link(model.page - 1) : null,
      next: model.page < model.pages ? link(model.page + 1) : null,
    });
  });

  router.post('/projects/:id/actions', async (req, res) => {
    const t = translator(req);
    const id = projectIdParam(req);
    const action = req.body?.action;
    const state = isState(req.body?.state) ? req.body.state : undefined;
    if (!isMailboxAction(action, BULK_ACTIONS)) { res.status(400); flash(req, 'error', `${action}?`); res.redirect(303, safeBack(req, req.body?.back)); return; }
    const { done, skipped } = await bulkAction(web.app, id, action, state, webActor(req.session.userName));
    flash(req, 'ok', t('project.bulkDone', { action: t(`action.${action}`), done, skipped }));
    res.redirect(303, safeBack(req, req.body?.back ?? `${req.baseUrl}/projects/${id}`));
  });

  router.post('/projects/:id/start', async (req, res) => {
    const t = translator(req);
    const id = projectIdParam(req);
    try {
      const { started } = await startProject(web.app, id, webActor(req.session.userName));
      flash(req, 'ok', t('project.started', { n: started }));
    } catch (err) {
      flash(req, 'error', formErrorOrThrow(req, err));
    }
    res.redirect(303, `${req.baseUrl}/projects/${id}`);
  });

  // Complete and Remove ask for a ticked confirmation box: the page works without JavaScript, so no confirm() dialog.
  router.post('/projects/:id/complete', async (req, res) => {
    const t = translator(req);
    const id = projectIdParam(req);
    if (req.body?.confirm !== 'yes') { flash(req, 'error', t('project.confirmFirst')); res.redirect(303, `${req.baseUrl}/projects/${id}`); return; }
    try {
      await completeProject(web.app, id, webActor(req.session.userName));
      flash(req, 'ok', t('project.completedDone'));
    } catch (err) {
      flash(req, 'error', formErrorOrThrow(req, err));
    }
    res.redirect(303, `${req.baseUrl}/projects/${id}`);
  });

  router.post('/projects/:id/remove', async (req, res) => {
    const t = translator(req);
    const id = projectIdParam(req);
    if (req.body?.confirm !== 'yes') { flash(req, 'error', t('project.confirmFirst')); res.redirect(303, `${req.baseUrl}/projects/${id}`); return; }
    try {
      const { removed, mailboxes } = await removeProject(web.app, id, webActor(req.session.userName));
      flash(req, 'ok', t('project.removed', { name: removed, n: mailboxes }));
      res.redirect(303, `${req.baseUrl}/`);
    } catch (err) {
      flash(req, 'error', formErrorOrThrow(req, err));
      res.redirect(303, `${req.baseUrl}/projects/${id}`);
    }
  });

  return router;
}
