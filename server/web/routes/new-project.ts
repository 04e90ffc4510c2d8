import express, { type Router } from 'express';
import { RowsInvalidError } from '../../services/mailbox-rows.ts';
import { addMailboxes } from '../../services/project-mailboxes.ts';
import { createProject } from '../../services/projects.ts';
import type { WebContext } from '../context.ts';
import { webActor } from '../actions.ts';
import { problemText } from '../models/import.ts';
import { addMailboxModel } from '../models/project-new-mailbox.ts';
import { defaultProjectForm, projectFormInput, projectFormModel, readProjectForm } from '../models/project-new.ts';
import { flash, renderPage, translator } from '../page.ts';
import { formErrorOrThrow, projectIdParam } from './projects.ts';

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** Creating a project (name, platforms, options) and adding its mailboxes one at a time. */
export function newProjectRoutes(web: WebContext): Router {
  const router = express.Router();

  router.get('/projects/new', async (req, res) => {
    renderPage(req, res, 'project-new', { title: translator(req)('projectNew.title'), ...(await projectFormModel(web.app, defaultProjectForm())) });
  });

  router.post('/projects/new', async (req, res) => {
    const t = translator(req);
    const values = readProjectForm(req.body);
    const { errors, options } = projectFormInput(values, t);
    const refuse = async (error?: string) => renderPage(req, res, 'project-new', { title: t('projectNew.title'), ...(await projectFormModel(web.app, values, errors, error)) }, 400);
    if (Object.keys(errors).length) { await refuse(t('projectNew.error.fix')); return; }
    try {
      const project = await createProject(web.app, { name: values.name, source: values.source, destination: values.destination, options, actor: webActor(req.session.userName) });
      flash(req, 'ok', t('projectNew.created', { name: project.name }));
      res.redirect(303, `${req.baseUrl}/projects/${project.id}`);
    } catch (err) {
      await refuse(formErrorOrThrow(req, err));
    }
  });

  router.get('/projects/:id/mailboxes/new', async (req, res) => {
    const t = translator(req);
    renderPage(req, res, 'mailboxes-add', await addMailboxModel(web.app, projectIdParam(req), t));
  });

  // The passwords are never sent back in the page: a refused form keeps the address, the admin types them again.
  router.post('/projects/:id/mailboxes/new', async (req, res) => {
    const t = translator(req);
    const id = projectIdParam(req);
    const address = text(req.body?.address).trim().slice(0, 320);
    const row = { line: 1, address, sourcePassword: text(req.body?.sourcePassword) || undefined, destPassword: text(req.body?.destPassword) || undefined };
    try {
      const [added] = await addMailboxes(web.app, id, [row], webActor(req.session.userName));
      flash(req, 'ok', t('mailboxAdd.added', { address: added! }));
      res.redirect(303, `${req.baseUrl}/projects/${id}`);
    } catch (err) {
      const errors = err instanceof RowsInvalidError ? err.rows.flatMap((r) => r.errors.map((p) => problemText(t, p))) : [formErrorOrThrow(req, err)];
      renderPage(req, res, 'mailboxes-add', await addMailboxModel(web.app, id, t, { address, errors }), 400);
    }
  });

  return router;
}
