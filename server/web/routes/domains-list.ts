import express, { type Request, type Router } from 'express';
import { platformByName } from '../../db/repos/platforms.ts';
import { unwatchDomain, watchDomain } from '../../db/repos/watched-domains.ts';
import { normalizeName } from '../../dns/names.ts';
import { recheckAllDomains, recheckDomain } from '../../dns/recheck.ts';
import { parseNameServer } from '../../dns/transport.ts';
import { CutoverError } from '../../errors.ts';
import { knownDomains } from '../../services/known-domains.ts';
import type { WebContext } from '../context.ts';
import { domainsPageModel, watchedDomainPageModel } from '../models/domains-list.ts';
import { flash, renderPage, translator } from '../page.ts';

const DOMAIN_NAME = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/;

/** A domain name from a form or URL, lower-cased, or INPUT_INVALID. */
export function domainName(value: unknown): string {
  const name = normalizeName(String(value ?? '').trim());
  if (!DOMAIN_NAME.test(name)) throw new CutoverError('INPUT_INVALID', { detail: `not a domain name: ${String(value ?? '').slice(0, 80)}` });
  return name;
}

function nameservers(value: unknown): string {
  const list = String(value ?? '').split(',').map((s) => s.trim()).filter(Boolean).slice(0, 8);
  for (const ns of list) parseNameServer(ns);
  return list.join(',');
}

/** The Domains page: every known domain with its dots (from the re-check job's rows), and domains watched by hand. */
export function domainsListRoutes(web: WebContext): Router {
  const router = express.Router();
  const watchedPage = (req: Request, name: string) => `${req.baseUrl}/domains/${encodeURIComponent(name)}`;

  router.get('/domains', async (req, res) => {
    const onlyNotGreen = req.query.show === 'not-green';
    const model = await domainsPageModel(web.app, req.baseUrl, { page: Number(req.query.page) || 1, pageSize: web.pageSize * 2, onlyNotGreen });
    const link = (page: number) => `${req.baseUrl}/domains?${new URLSearchParams({ ...(onlyNotGreen ? { show: 'not-green' } : {}), page: String(page) })}`;
    renderPage(req, res, 'domains', {
      title: translator(req)('domains.title'), ...model,
      previous: model.page > 1 ? link(model.page - 1) : null,
      next: model.page < model.pages ? link(model.page + 1) : null,
    });
  });

  router.post('/domains', async (req, res) => {
    const name = domainName(req.body.name);
    const platform = await platformByName(web.app.db, String(req.body.platform ?? ''));
    await watchDomain(web.app.db, { name, platform_id: platform.id, source: 'manual', nameservers: nameservers(req.body.nameservers) });
    const known = (await knownDomains(web.app)).find((d) => d.name === name)!;
    await recheckDomain(web.app, known);
    flash(req, 'ok', translator(req)('domains.added', { domain: name }));
    res.redirect(303, `${req.baseUrl}/domains`);
  });

  router.post('/domains/recheck', async (req, res) => {
    const summary = await recheckAllDomains(web.app);
    flash(req, summary.notGreen === 0 ? 'ok' : 'error', translator(req)('domains.rechecked', { n: summary.checked, notGreen: summary.notGreen }));
    res.redirect(303, `${req.baseUrl}/domains`);
  });

  router.get('/domains/:domain', async (req, res) => {
    const model = await watchedDomainPageModel(web.app, String(req.params.domain));
    renderPage(req, res, 'domain', { title: translator(req)('domain.title', { domain: model.domain.name }), ...model });
  });

  router.post('/domains/:domain/check', async (req, res) => {
    res.redirect(303, watchedPage(req, domainName(req.params.domain)));
  });

  router.post('/domains/:domain/remove', async (req, res) => {
    const name = domainName(req.params.domain);
    await unwatchDomain(web.app.db, name);
    await web.app.db('domain_checks').where({ name }).delete();
    flash(req, 'ok', translator(req)('domains.removed', { domain: name }));
    res.redirect(303, `${req.baseUrl}/domains`);
  });

  router.get('/api/domains', async (req, res) => {
    const model = await domainsPageModel(web.app, req.baseUrl);
    res.json({ domains: model.domains.map(({ removable: _r, ...d }) => d), notGreen: model.notGreen });
  });

  return router;
}
