import express, { type Request, type Router } from 'express';
import { CutoverError } from '../../errors.ts';
import { applyDomainDns, checkDomainNow, confirmDomainDns } from '../../services/domain-actions.ts';
import type { WebContext } from '../context.ts';
import { webActor } from '../actions.ts';
import { domainPageModel } from '../models/domain-page.ts';
import { flash, renderPage, translator } from '../page.ts';

function projectId(req: Request): number {
  const id = Number(req.params.id);
  return Number.isInteger(id) && id > 0 ? id : 0;
}

function domainParam(req: Request): string {
  return String(req.params.domain ?? '');
}

/** The domain page (a dot per DNS check and per authoritative server, the dns-cutover step's buttons) and its API. */
export function domainRoutes(web: WebContext): Router {
  const router = express.Router();
  const page = (req: Request, id: number, domain: string) => `${req.baseUrl}/projects/${id}/domains/${encodeURIComponent(domain)}`;

  router.get('/projects/:id/domains/:domain', async (req, res) => {
    const model = await domainPageModel(web.app, projectId(req), domainParam(req));
    renderPage(req, res, 'domain', { title: translator(req)('domain.title', { domain: model.domain.name }), ...model });
  });

  // Check now: diagnose again, and let the migrations waiting on this domain look again at once.
  router.post('/projects/:id/domains/:domain/check', async (req, res) => {
    const t = translator(req);
    const { where, report, woken } = await checkDomainNow(web.app, projectId(req), domainParam(req));
    flash(req, report.blocking.length === 0 ? 'ok' : 'error', t('domain.checked', { status: t(`dns.status.${report.status}`), woken }));
    res.redirect(303, page(req, where.project.id, where.domain.name));
  });

  router.post('/projects/:id/domains/:domain/confirm', async (req, res) => {
    const { where } = await confirmDomainDns(web.app, projectId(req), domainParam(req), webActor(req.session.userName));
    flash(req, 'ok', translator(req)('domain.confirmed'));
    res.redirect(303, page(req, where.project.id, where.domain.name));
  });

  router.post('/projects/:id/domains/:domain/apply', async (req, res) => {
    const t = translator(req);
    const { where, provider, outcome } = await applyDomainDns(web.app, projectId(req), domainParam(req), webActor(req.session.userName));
    if (!outcome) flash(req, 'error', t('domain.noProvider'));
    else if (outcome.kind === 'not-managed') flash(req, 'error', t('domain.notManaged', { provider: provider!, domain: where.domain.name }));
    else if (outcome.kind === 'lowered') flash(req, 'ok', t('domain.lowered', { seconds: outcome.waitSeconds }));
    else flash(req, 'ok', t(outcome.kind === 'applied' ? 'domain.applied' : 'domain.unchanged', { provider: provider!, changes: outcome.summary.join('; '), manual: outcome.manual.join('; ') || '—' }));
    res.redirect(303, page(req, where.project.id, where.domain.name));
  });

  // The same, for scripts.
  router.get('/api/projects/:id/domains/:domain', async (req, res) => {
    res.json(await domainPageModel(web.app, projectId(req), domainParam(req)));
  });
  router.post('/api/projects/:id/domains/:domain/check', async (req, res) => {
    const { report, woken } = await checkDomainNow(web.app, projectId(req), domainParam(req));
    res.json({ report, woken });
  });
  router.post('/api/projects/:id/domains/:domain/confirm', async (req, res) => {
    await confirmDomainDns(web.app, projectId(req), domainParam(req), webActor(req.session.userName));
    res.json({ confirmed: true });
  });
  router.post('/api/projects/:id/domains/:domain/apply', async (req, res) => {
    const { provider, outcome } = await applyDomainDns(web.app, projectId(req), domainParam(req), webActor(req.session.userName));
    if (!outcome) throw new CutoverError('INPUT_INVALID', { detail: 'the project has no DNS provider: change the records at the DNS host, then confirm' });
    res.json({ provider, outcome });
  });

  return router;
}
