import express, { type Router } from 'express';
import { listWorkers } from '../../db/repos/workers.ts';
import { LEASE_MS } from '../../workflow/lease.ts';
import type { WebContext } from '../context.ts';
import { renderPage, translator } from '../page.ts';

/** The fleet: every worker with its host, current mailboxes and last heartbeat; a stale one is lost. */
export function workerRoutes(web: WebContext): Router {
  const router = express.Router();
  router.get('/workers', async (req, res) => {
    const t = translator(req);
    const workers = await listWorkers(web.app.db, Date.now(), WORKER_LOST_AFTER_MS);
    renderPage(req, res, 'workers', {
      title: t('workers.title'), seconds: WORKER_LOST_AFTER_MS / 1000,
      workers: workers.map((w) => ({ ...w, statusText: t(`workers.${w.status}`), mailboxCount: w.mailboxes.length })),
    });
  });
  return router;
}

/** Two missed leases: a busy event loop may delay one heartbeat, not two leases' worth. */
export const WORKER_LOST_AFTER_MS = 2 * LEASE_MS;
