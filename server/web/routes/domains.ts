import express, { type Request, type Router } from 'express';
import { applyThroughProvider } from '../../dns/cutover.ts';
import { openDnsProvider } from '../../dns/providers.ts';
import { confirmDomainStep } from '../../services/actions.ts';
import { domainProviderJob } from '../../workflow/steps/dns-cutover.ts';
import type { WebContext } from '../context.ts';
import { webActor } from '../actions.ts';
import { diagnoseDomain, domainPageModel, projectDomain, wakeWaitingMailboxes } from '../models/domain-page.ts';
import { flash, renderPage, translator } from '../page.ts';

function projectId(req: Request): number {
  const id = Number(req.params.id);
  return Number.isInteger(id) && id > 0 ? id : 0;
}

function domainParam(req: Request): string {
  return String(req.params.domain ?? '');
}

/** The domain page: a dot per DNS check and per authoritative server, and the dns-cutover step's buttons. */
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
    const where = await projectDomain(web.app, projectId(req), domainParam(req));
    const report = await diagnoseDomain(web.app, where);
    const woken = await wakeWaitingMailboxes(web.app, where.domain.id);
    flash(req, report.blocking.length === 0 ? 'ok' : 'error', t('domain.checked', { status: t(`dns.status.${report.status}`), woken }));
    res.redirect(303, page(req, where.project.id, where.domain.name));
  });

  router.post('/projects/:id/domains/:domain/confirm', async (req, res) => {
    const where = await projectDomain(web.app, projectId(req), domainParam(req));
    await confirmDomainStep(web.app, where.project.id, where.domain.id, 'dns-cutover', webActor(req.session.userName));
    flash(req, 'ok', translator(req)('domain.confirmed'));
    res.redirect(303, page(req, where.project.id, where.domain.name));
  });

  // The change the dns-cutover step makes through the project's DNS provider, with the same audit events.
  router.post('/projects/:id/domains/:domain/apply', async (req, res) => {
    const t = translator(req);
    const app = web.app;
    const where = await projectDomain(app, projectId(req), domainParam(req));
    const name = where.options.dnsProvider;
    if (!name) {
      flash(req, 'error', t('domain.noProvider'));
      res.redirect(303, page(req, where.project.id, where.domain.name));
      return;
    }
    const expected = await (await app.connector(where.project.dest_platform_id)).expectedDns(where.domain.name);
    const provider = await openDnsProvider(app.db, app.box, app.log, name, app.plugins);
    try {
      const job = domainProviderJob(app.db, { projectId: where.project.id, domainId: where.domain.id, domain: where.domain.name }, name, expected, where.options.dnsLowTtl, webActor(req.session.userName));
      const outcome = await applyThroughProvider(provider, job);
      if (outcome.kind === 'not-managed') flash(req, 'error', t('domain.notManaged', { provider: name, domain: where.domain.name }));
      else if (outcome.kind === 'lowered') flash(req, 'ok', t('domain.lowered', { seconds: outcome.waitSeconds }));
      else flash(req, 'ok', t(outcome.kind === 'applied' ? 'domain.applied' : 'domain.unchanged', { provider: name, changes: outcome.summary.join('; '), manual: outcome.manual.join('; ') || '—' }));
    } finally {
      await provider.close();
    }
    await wakeWaitingMailboxes(app, where.domain.id);
    res.redirect(303, page(req, where.project.id, where.domain.name));
  });

  return router;
}
