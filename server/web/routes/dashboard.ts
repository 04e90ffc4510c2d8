import express, { type Router } from 'express';
import type { WebContext } from '../context.ts';
import { dashboardModel } from '../models/dashboard.ts';
import { renderPage, translator } from '../page.ts';

export function dashboardRoutes(web: WebContext): Router {
  const router = express.Router();
  router.get('/', async (req, res) => {
    renderPage(req, res, 'dashboard', { title: translator(req)('dashboard.title'), refresh: true, ...(await dashboardModel(web.app)) });
  });
  return router;
}
