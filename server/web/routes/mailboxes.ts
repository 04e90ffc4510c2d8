import express, { type Request, type Router } from 'express';
import { CutoverError } from '../../errors.ts';
import { mailboxAction } from '../../services/actions.ts';
import type { WebContext } from '../context.ts';
import { isMailboxAction, MAILBOX_ACTIONS, webActor } from '../actions.ts';
import { errorText } from '../errors.ts';
import { mailboxPageModel } from '../models/mailbox-page.ts';
import { flash, renderPage, translator } from '../page.ts';

export function mailboxId(req: Request): number {
  const id = Number(req.params.id);
  if (!Number.isInteger(id) || id <= 0) throw new CutoverError('MAILBOX_UNKNOWN', { ref: String(req.params.id) });
  return id;
}

/** The mailbox page (timeline, folder plan, skip list) and its action buttons. */
export function mailboxRoutes(web: WebContext): Router {
  const router = express.Router();

  router.get('/mailboxes/:id', async (req, res) => {
    const model = await mailboxPageModel(web.app, mailboxId(req));
    renderPage(req, res, 'mailbox', {
      title: translator(req)('mailbox.title', { address: model.mailbox.address }),
      live: `${req.baseUrl}/api/mailboxes/${model.mailbox.id}`,
      ...model, actions: MAILBOX_ACTIONS,
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
      if (!(err instanceof CutoverError) || err.code !== 'ACTION_NOT_ALLOWED') throw err;
      flash(req, 'error', errorText(req, err));
    }
    res.redirect(303, `${req.baseUrl}/mailboxes/${id}`);
  });

  return router;
}
