import { readFileSync } from 'node:fs';
import express, { type Router } from 'express';
import { projectRoot } from '../../paths.ts';

/** The few static files the pages use (served from views/assets; the CSP allows only same-origin scripts). */
export function assetRoutes(): Router {
  const router = express.Router();
  const live = readFileSync(`${projectRoot}/views/assets/live.js`, 'utf8');
  router.get('/assets/live.js', (_req, res) => { res.type('application/javascript').set('Cache-Control', 'no-cache').send(live); });
  const upload = readFileSync(`${projectRoot}/views/assets/upload.js`, 'utf8');
  router.get('/assets/upload.js', (_req, res) => { res.type('application/javascript').set('Cache-Control', 'no-cache').send(upload); });
  return router;
}
