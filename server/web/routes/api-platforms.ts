import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { CutoverError } from '../../errors.ts';
import { requestPlatformKey, storeValidatedKey } from '../../services/ovh-credential.ts';
import { testPlatform } from '../../services/platform-test.ts';
import { autodetectPlatform } from '../../services/autodetect.ts';
import { addPlatform, listPlatformSummaries, platformDetails, removePlatform, updatePlatform } from '../../services/platforms.ts';
import { webActor } from '../actions.ts';
import type { WebContext } from '../context.ts';
import { openTicket, sealTicket } from '../models/platform-consumer-key.ts';
import { errorJson, issueLocale, platformErrorStatus, platformErrorText } from '../models/platform-errors.ts';
import { pluginList } from '../models/platform-list.ts';
import { testReportJson } from '../models/platform-test.ts';

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
const strings = (v: unknown) => (Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : []);

/**
 * The platforms pages as JSON, same services and session (mutations need X-CSRF-Token). Secrets
 * are write-only here too: a secret left out of a PUT's config keeps its stored value,
 * `clearSecrets` lists those to forget, and no answer ever carries one.
 */
export function apiPlatformRoutes(web: WebContext): Router {
  const router = express.Router();
  const app = web.app;
  const actor = (req: Request) => webActor(req.session.userName);

  router.get('/api/plugins', (_req, res) => { res.json(pluginList(app)); });

  router.get('/api/platforms', async (_req, res) => { res.json(await listPlatformSummaries(app)); });

  router.get('/api/platforms/:name', async (req, res) => { res.json(await platformDetails(app, req.params.name)); });

  // { name, plugin, config, skipTest? }: the connection is tested before anything is stored.
  router.post('/api/platforms', async (req, res) => {
    const body = req.body ?? {};
    const added = await addPlatform(app, { name: str(body.name) ?? '', plugin: str(body.plugin) ?? '', config: body.config, skipTest: body.skipTest === true }, actor(req), issueLocale(req));
    res.status(201).json(added);
  });

  // { name, address, password, plugin?, config? (extra settings), nameservers?, skipTest? }: found, tested with a login, added.
  router.post('/api/platforms/autodetect', async (req, res) => {
    const body = req.body ?? {};
    const { platform, detected, seconds } = await autodetectPlatform(app, {
      name: str(body.name) ?? '', plugin: str(body.plugin), address: str(body.address) ?? '', password: str(body.password) ?? '',
      nameservers: strings(body.nameservers), skipLogin: body.skipTest === true,
      extraConfig: body.config && typeof body.config === 'object' ? body.config as Record<string, unknown> : undefined,
    }, actor(req));
    res.status(201).json({ ...platform, detected: { source: detected.source, tried: detected.tried, login: detected.login ? 'ok' : 'skipped' }, seconds });
  });

  // { config, clearSecrets? }
  router.put('/api/platforms/:name', async (req, res) => {
    res.json(await updatePlatform(app, req.params.name, { config: req.body?.config, clearSecrets: strings(req.body?.clearSecrets) }, actor(req), issueLocale(req)));
  });

  router.delete('/api/platforms/:name', async (req, res) => {
    await removePlatform(app, req.params.name, actor(req));
    res.status(204).end();
  });

  // { domain?, mailbox?, password?, zone? }: a failed test is a 200 with ok: false and the reasons.
  router.post('/api/platforms/:name/test', async (req, res) => {
    const b = req.body ?? {};
    const report = await testPlatform(app, req.params.name, { domain: str(b.domain), mailbox: str(b.mailbox), password: str(b.password), zone: str(b.zone) }, actor(req));
    res.json(testReportJson(report, (err) => platformErrorText(req, err)));
  });

  // OVHcloud: the key comes back as a sealed `ticket` (never in clear) to send to confirm once validated.
  router.post('/api/platforms/:name/consumer-key', async (req, res) => {
    const key = await requestPlatformKey(app, req.params.name, actor(req));
    res.json({ validationUrl: key.validationUrl, state: key.state, rules: key.rules, ticket: sealTicket(app, req.params.name, key.consumerKey) });
  });

  // { ticket }: 200 once stored; 409 with state pendingValidation (validate, then confirm again) or invalid (request a new key).
  router.post('/api/platforms/:name/consumer-key/confirm', async (req, res) => {
    const consumerKey = openTicket(app, req.params.name, req.body?.ticket);
    if (!consumerKey) throw new CutoverError('INPUT_INVALID', { detail: `no valid ticket for ${req.params.name}: send the ticket POST /api/platforms/${req.params.name}/consumer-key returned` });
    const { state, check } = await storeValidatedKey(app, req.params.name, consumerKey, actor(req));
    res.status(state === 'validated' ? 200 : 409).json({ stored: state === 'validated', state, ...(check && { expiration: check.expiration, missing: check.missing }) });
  });

  router.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (!(err instanceof CutoverError) || err.code === 'INTERNAL') return next(err);
    res.status(platformErrorStatus(err)).json(errorJson(req, err));
  });

  return router;
}
