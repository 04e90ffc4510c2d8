import express, { type Request, type Router } from 'express';
import { mailboxChart } from '../../daily/charts.ts';
import { CutoverError } from '../../errors.ts';
import { mailboxAction } from '../../services/actions.ts';
import { clientSettings } from '../../services/client-settings.ts';
import { FolderPlanInvalid, saveFolderPlan, type FieldError, type FolderChoice } from '../../services/folder-plan-edit.ts';
import { folderPlanView } from '../../services/folder-plan-view.ts';
import { rollback, rollbackPlan } from '../../services/rollback.ts';
import { mailboxById } from '../../db/repos/mailboxes.ts';
import { uploadsOf } from '../../files/uploads.ts';
import { reportModel, uploadRow } from '../models/file-upload.ts';
import { MAX_NAME_CHARS } from '../../workflow/plan-override.ts';
import type { WebContext } from '../context.ts';
import { isMailboxAction, MAILBOX_ACTIONS, webActor } from '../actions.ts';
import { errorText } from '../errors.ts';
import { mailboxPageModel } from '../models/mailbox-page.ts';
import { flash, languageOf, renderPage, translator } from '../page.ts';
import { size } from '../models/progress.ts';
import { lockText, problemText } from '../models/mailbox-words.ts';

export function mailboxId(req: Request): number {
  const id = Number(req.params.id);
  if (!Number.isInteger(id) || id <= 0) throw new CutoverError('MAILBOX_UNKNOWN', { ref: String(req.params.id) });
  return id;
}

// Errors an admin can act on come back as a flash on the mailbox page; anything else goes to the error page.
const FLASHED = ['ACTION_NOT_ALLOWED', 'MAILBOX_BUSY', 'FOLDER_PLAN_LOCKED', 'SYNC_POINT_UNKNOWN', 'ROLLBACK_UNSUPPORTED', 'CONFIRMATION_REQUIRED'];

function flashError(req: Request, err: unknown): void {
  if (!(err instanceof CutoverError) || !FLASHED.includes(err.code)) throw err;
  const lock = err.code === 'FOLDER_PLAN_LOCKED' ? ` ${lockText(translator(req), String(err.params.lock))}` : '';
  flash(req, 'error', errorText(req, err) + lock);
}

/** The folder plan form's fields, one numbered group per source folder (the form needs no JavaScript). */
function choicesFrom(body: Record<string, unknown>): FolderChoice[] {
  const count = Math.min(Number(body.count) || 0, 10_000);
  const choices: FolderChoice[] = [];
  for (let i = 0; i < count; i++) {
    const source = body[`source.${i}`];
    if (typeof source !== 'string') continue;
    const dest = body[`dest.${i}`];
    choices.push({ source, excluded: body[`include.${i}`] !== 'yes', dest: typeof dest === 'string' ? dest : null });
  }
  return choices;
}

/** The mailbox page (timeline, folder plan and progress, skip list, sync points, client settings) and its forms. */
export function mailboxRoutes(web: WebContext): Router {
  const router = express.Router();

  router.get('/mailboxes/:id', async (req, res) => {
    const t = translator(req);
    const eventsPage = Number.parseInt(String(req.query.events ?? '1'), 10);
    const model = await mailboxPageModel(web.app, mailboxId(req), Date.now(), Number.isFinite(eventsPage) ? eventsPage : 1);
    const settings = await clientSettings(web.app, model.mailbox.id);
    const listed = model.syncPoints.filter((p) => p.messages > 0 || p.rolledBackAt);
    renderPage(req, res, 'mailbox', {
      title: t('mailbox.title', { address: model.mailbox.address }),
      live: `${req.baseUrl}/api/mailboxes/${model.mailbox.id}`,
      ...model, actions: MAILBOX_ACTIONS,
      planLock: model.plan.lock ? lockText(t, model.plan.lock) : null,
      listedSyncPoints: listed, emptyPasses: model.syncPoints.length - listed.length,
      skipsMore: model.skipsTotal > model.skips.length,
      client: { ...settings, problems: settings.problems.map((detail) => t('client.problem', { detail })) },
      progressChart: await mailboxChart(web.app.db, model.mailbox.id, languageOf(req), req.session.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone),
      fileImports: (await uploadsOf(web.app, model.mailbox.id)).map((u) => ({ ...uploadRow(u), summary: reportModel(u.report) })),
    });
  });

  router.post('/mailboxes/:id/actions', async (req, res) => {
    const t = translator(req);
    const id = mailboxId(req);
    const action = req.body?.action;
    if (!isMailboxAction(action)) throw new CutoverError('INPUT_INVALID', { detail: `unknown action ${String(action)}` });
    try {
      await mailboxAction(web.app, String(id), action, webActor(req.session.userName));
      flash(req, 'ok', t('mailbox.actionDone', { action: t(`action.${action}`) }));
    } catch (err) {
      flashError(req, err);
    }
    res.redirect(303, `${req.baseUrl}/mailboxes/${id}`);
  });

  const renderPlanForm = async (req: Request, res: express.Response, id: number, submitted?: { choices: FolderChoice[]; errors: FieldError[] }) => {
    const t = translator(req);
    const row = await mailboxById(web.app.db, id);
    const view = await folderPlanView(web.app.db, row);
    const folders = view.folders.map((f, i) => {
      const sent = submitted?.choices.find((c) => c.source === f.source);
      const errors = (submitted?.errors ?? []).filter((e) => e.source === f.source).map((e) => problemText(t, e, MAX_NAME_CHARS));
      return {
        ...f, index: i, included: sent ? !sent.excluded : !f.excluded, value: sent?.dest ?? f.dest, specialUse: f.specialUse?.replace(/^\\/, '') ?? null,
        size: f.bytes === null ? null : size(f.bytes), errors,
      };
    });
    renderPage(req, res, 'mailbox-folders', {
      title: t('plan.editTitle', { address: row.address }), mailbox: { id: row.id, address: row.address },
      folders, count: folders.length, invalid: Boolean(submitted), maxChars: MAX_NAME_CHARS,
    }, submitted ? 400 : 200);
  };

  router.get('/mailboxes/:id/folders', async (req, res) => {
    const id = mailboxId(req);
    const view = await folderPlanView(web.app.db, await mailboxById(web.app.db, id));
    if (!view.editable) {
      const t = translator(req);
      flash(req, 'error', lockText(t, view.lock ?? 'copyBegun'));
      res.redirect(303, `${req.baseUrl}/mailboxes/${id}`);
      return;
    }
    await renderPlanForm(req, res, id);
  });

  router.post('/mailboxes/:id/folders', async (req, res) => {
    const id = mailboxId(req);
    const choices = choicesFrom(req.body ?? {});
    try {
      await saveFolderPlan(web.app, id, choices, webActor(req.session.userName));
      flash(req, 'ok', translator(req)('plan.saved'));
    } catch (err) {
      if (err instanceof FolderPlanInvalid) { await renderPlanForm(req, res, id, { choices, errors: err.fields }); return; }
      flashError(req, err);
    }
    res.redirect(303, `${req.baseUrl}/mailboxes/${id}`);
  });

  router.get('/mailboxes/:id/rollback', async (req, res) => {
    const t = translator(req);
    const id = mailboxId(req);
    const since = Number(req.query.since);
    let plan;
    try {
      plan = await rollbackPlan(web.app, id, since);
    } catch (err) {
      flashError(req, err);
      res.redirect(303, `${req.baseUrl}/mailboxes/${id}`);
      return;
    }
    const row = await mailboxById(web.app.db, id);
    renderPage(req, res, 'mailbox-rollback', {
      title: t('rollback.title', { pass: since }), mailbox: { id: row.id, address: row.address },
      plan: { ...plan, size: size(plan.bytes), folders: plan.folders.map((f) => ({ ...f, size: size(f.bytes) })) },
    });
  });

  router.post('/mailboxes/:id/rollback', async (req, res) => {
    const t = translator(req);
    const id = mailboxId(req);
    const since = Number(req.body?.since);
    if (req.body?.confirm !== 'yes') {
      flash(req, 'error', t('rollback.notConfirmed'));
      res.redirect(303, `${req.baseUrl}/mailboxes/${id}/rollback?since=${encodeURIComponent(String(req.body?.since ?? ''))}`);
      return;
    }
    try {
      const done = await rollback(web.app, id, since, { confirm: true, actor: webActor(req.session.userName) });
      flash(req, 'ok', t('rollback.done', { deleted: done.deleted, gone: done.alreadyGone }));
    } catch (err) {
      flashError(req, err);
    }
    res.redirect(303, `${req.baseUrl}/mailboxes/${id}`);
  });

  return router;
}
