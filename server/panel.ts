import express, { type Router } from 'express';
import type { AppContext } from './context.ts';
import { listProjects } from './db/repos/projects.ts';
import { projectReport } from './services/report.ts';
import { render } from './web/views.ts';

/** The mountable panel: a host control panel mounts this router under a path of its own. */
export function createPanel(app: AppContext): Router {
  const router = express.Router();
  router.get('/', async (_req, res) => {
    const projects = [];
    for (const project of await listProjects(app.db)) projects.push(await projectReport(app, project));
    res.type('html').send(render('status', { title: 'Projects', projects }));
  });
  router.get('/api/projects', async (_req, res) => {
    const projects = [];
    for (const project of await listProjects(app.db)) projects.push(await projectReport(app, project));
    res.json(projects);
  });
  return router;
}
