import express, { type Router } from 'express';
import { platformByName } from '../../db/repos/platforms.ts';
import { dnsDots } from '../../dns/dots.ts';
import { diagnoseKnownDomain } from '../../dns/recheck.ts';
import { CutoverError } from '../../errors.ts';
import { knownDomains } from '../../services/known-domains.ts';
import type { WebContext } from '../context.ts';
import { domainName } from './domains-list.ts';

const CACHE_MS = 60_000;
const CACHE_MAX = 2_000;

/**
 * `GET /api/dns/:domain?platform=NAME`: the dots and fixes of any domain against a platform's
 * expected DNS, for a host panel's own domain list (token auth like the rest of /api). Answers are
 * kept a minute, so a list page drawing many domains does not send a burst of lookups each time.
 */
export function apiDnsRoutes(web: WebContext): Router {
  const router = express.Router();
  const cache = new Map<string, { at: number; body: unknown }>();

  router.get('/api/dns/:domain', async (req, res) => {
    const name = domainName(req.params.domain);
    const known = (await knownDomains(web.app)).find((d) => d.name === name);
    const platformName = typeof req.query.platform === 'string' ? req.query.platform : undefined;
    const platformId = platformName ? (await platformByName(web.app.db, platformName)).id : known?.platformId;
    if (!platformId) throw new CutoverError('INPUT_INVALID', { detail: `say which platform ${name} should point to: ?platform=NAME` });
    const key = `${name}|${platformId}`;
    const hit = cache.get(key);
    res.set('cache-control', `private, max-age=${CACHE_MS / 1000}`);
    if (hit && Date.now() - hit.at < CACHE_MS) { res.json(hit.body); return; }
    const report = await diagnoseKnownDomain(web.app, {
      name, platformId, oldPlatformId: known?.platformId === platformId ? known.oldPlatformId : null,
      resolvers: known?.resolvers ?? [], authoritative: known?.authoritative ?? [],
    });
    const body = {
      domain: name, platform: platformName ?? null, status: report.status, dots: dnsDots(report.checks),
      checks: report.checks.map((c) => ({ id: c.id, title: c.title, status: c.status, found: c.found, expected: c.expected, fix: c.fix ?? null })),
      checkedAt: report.checkedAt, errors: report.errors,
    };
    if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
    cache.set(key, { at: Date.now(), body });
    res.json(body);
  });

  return router;
}
