import express, { type Router } from 'express';
import { z } from 'zod';
import { CutoverError } from '../../errors.ts';
import { MAX_EXCLUSIONS, MAX_EXCLUSION_CHARS } from '../../groupware/exclusions.ts';
import { collectionPlan, saveCollectionExclusions } from '../../groupware/plan.ts';
import type { WebContext } from '../context.ts';
import { webActor } from '../actions.ts';
import { flash, renderPage, translator } from '../page.ts';
import { mailboxId } from './mailboxes.ts';

const exclusionsBody = z.object({ excluded: z.array(z.string().max(MAX_EXCLUSION_CHARS)).max(MAX_EXCLUSIONS) }).strict();

/** The form's fields: one numbered checkbox per listed collection (ticked: copied), and a box for names typed by hand. */
function excludedFrom(body: Record<string, unknown>): string[] {
  const count = Math.min(Number(body.count) || 0, MAX_EXCLUSIONS);
  const excluded: string[] = [];
  for (let i = 0; i < count; i++) {
    const collection = body[`collection.${i}`];
    if (typeof collection === 'string' && body[`copy.${i}`] !== 'yes') excluded.push(collection);
  }
  const typed = typeof body.more === 'string' ? body.more.split(/\r?\n/) : [];
  return [...excluded, ...typed];
}

/**
 * What moves of a mailbox besides the mail (address books, calendars, task lists, the filter
 * scripts): the page, its form, and the JSON API, on top of the project's options.
 */
export function mailboxCollectionRoutes(web: WebContext): Router {
  const router = express.Router();

  router.get('/mailboxes/:id/collections', async (req, res) => {
    const t = translator(req);
    const plan = await collectionPlan(web.app, mailboxId(req), { lookup: req.query.lookup === '1' });
    renderPage(req, res, 'mailbox-collections', {
      title: t('groupware.plan.title', { address: plan.mailbox.address }), ...plan,
      rows: plan.choices.map((c, index) => ({ ...c, index, copied: c.excludedBy === null, byProject: c.excludedBy === 'project', typed: c.kind === null })),
      count: plan.choices.length,
    });
  });

  router.post('/mailboxes/:id/collections', async (req, res) => {
    const id = mailboxId(req);
    await saveCollectionExclusions(web.app, id, excludedFrom(req.body ?? {}), webActor(req.session.userName));
    flash(req, 'ok', translator(req)('groupware.plan.saved'));
    res.redirect(303, `${req.baseUrl}/mailboxes/${id}#groupware`);
  });

  router.get('/api/mailboxes/:id/collections', async (req, res) => {
    res.json(await collectionPlan(web.app, mailboxId(req), { lookup: req.query.lookup === '1' || req.query.lookup === 'true' }));
  });

  // The whole list: a collection not named in `excluded` is copied (unless the project leaves it out).
  router.put('/api/mailboxes/:id/collections', async (req, res) => {
    const parsed = exclusionsBody.safeParse(req.body ?? {});
    if (!parsed.success) throw new CutoverError('INPUT_INVALID', { detail: parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ') });
    res.json(await saveCollectionExclusions(web.app, mailboxId(req), parsed.data.excluded, webActor(req.session.userName)));
  });

  return router;
}
