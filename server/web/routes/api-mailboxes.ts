import express, { type Router } from 'express';
import { z } from 'zod';
import { mailboxById } from '../../db/repos/mailboxes.ts';
import { CutoverError } from '../../errors.ts';
import { clientSettings } from '../../services/client-settings.ts';
import { saveFolderPlan } from '../../services/folder-plan-edit.ts';
import { folderPlanView } from '../../services/folder-plan-view.ts';
import { rollback, syncPoints } from '../../services/rollback.ts';
import type { WebContext } from '../context.ts';
import { webActor } from '../actions.ts';
import { mailboxId } from './mailboxes.ts';

const folderPlanBody = z.object({
  folders: z.array(z.object({
    source: z.string().min(1),
    excluded: z.boolean().default(false),
    /** null or absent: the engine names it. */
    dest: z.string().nullable().optional(),
  }).strict()).max(10_000),
}).strict();

const rollbackBody = z.object({ since: z.number().int().positive(), confirm: z.boolean().optional() }).strict();

function parsed<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body ?? {});
  if (!result.success) throw new CutoverError('INPUT_INVALID', { detail: result.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ') });
  return result.data;
}

/**
 * The JSON side of the mailbox page's folder plan, sync points, rollback and client settings:
 * the same services, behind the same session, mutations with the X-CSRF-Token header.
 */
export function apiMailboxRoutes(web: WebContext): Router {
  const router = express.Router();

  router.get('/api/mailboxes/:id/folders', async (req, res) => {
    res.json(await folderPlanView(web.app.db, await mailboxById(web.app.db, mailboxId(req))));
  });

  // The whole plan: a folder left out of `folders` goes back to the engine's choice.
  router.put('/api/mailboxes/:id/folders', async (req, res) => {
    const body = parsed(folderPlanBody, req.body);
    res.json(await saveFolderPlan(web.app, mailboxId(req), body.folders, webActor(req.session.userName)));
  });

  router.get('/api/mailboxes/:id/sync-points', async (req, res) => {
    res.json(await syncPoints(web.app.db, (await mailboxById(web.app.db, mailboxId(req))).id));
  });

  router.post('/api/mailboxes/:id/rollback', async (req, res) => {
    const body = parsed(rollbackBody, req.body);
    res.json(await rollback(web.app, mailboxId(req), body.since, { confirm: body.confirm === true, actor: webActor(req.session.userName) }));
  });

  router.get('/api/mailboxes/:id/client-settings', async (req, res) => {
    res.json(await clientSettings(web.app, (await mailboxById(web.app.db, mailboxId(req))).id));
  });

  return router;
}
