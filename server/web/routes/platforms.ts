import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { CutoverError } from '../../errors.ts';
import { configFields, type ConfigField } from '../../services/config-fields.ts';
import { requestPlatformKey, storeValidatedKey } from '../../services/ovh-credential.ts';
import { ConfigInvalidError } from '../../services/plugin-config.ts';
import { testPlatform } from '../../services/platform-test.ts';
import { autodetectPlatform } from '../../services/autodetect.ts';
import { addPlatform, platformDetails, removePlatform, updatePlatform } from '../../services/platforms.ts';
import { webActor } from '../actions.ts';
import type { WebContext } from '../context.ts';
import { dropPendingKey, keepPendingKey, pendingKey } from '../models/platform-consumer-key.ts';
import { platformErrorStatus, platformErrorText, issueLocale } from '../models/platform-errors.ts';
import { formPageModel, type FormPageInput } from '../models/platform-form-page.ts';
import { defaultValues, formRefusal, readForm, valuesFromBody, valuesFromConfig } from '../models/platform-form.ts';
import { platformListModel } from '../models/platform-list.ts';
import { testPageModel } from '../models/platform-test.ts';
import { flash, renderPage, translator } from '../page.ts';

const str = (v: unknown) => (typeof v === 'string' ? v : '');
const list = (v: unknown) => (Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : []);

/** The platforms and DNS providers pages: parse the form, call the service, render the model. */
export function platformRoutes(web: WebContext): Router {
  const router = express.Router();
  const app = web.app;
  const actor = (req: Request) => webActor(req.session.userName);
  const editUrl = (req: Request, name: string) => `${req.baseUrl}/platforms/${encodeURIComponent(name)}/edit`;
  // A plugin that can find its own settings gets the Autodetect form next to the generated one, while adding.
  const showForm = (req: Request, res: Response, input: FormPageInput & { autodetect?: { address?: string; nameserver?: string; error?: string } }, status = 200) => renderPage(req, res, 'platform-form', {
    ...formPageModel(input, translator(req)),
    ...(input.plugin.autodetect && !input.name && { autodetect: { address: '', nameserver: '', ...input.autodetect } }),
  }, status);

  /** The form sent back after a refusal: the admin's input (secrets aside), the issues next to their fields. */
  const refused = (req: Request, res: Response, err: unknown, input: Omit<FormPageInput, 'values'>, fields: ConfigField[]) => {
    if (!(err instanceof CutoverError)) throw err;
    const issues = err instanceof ConfigInvalidError ? err.issues : [];
    const failure = err instanceof ConfigInvalidError ? translator(req)('platforms.form.invalid') : platformErrorText(req, err);
    showForm(req, res, { ...input, values: valuesFromBody(fields, req.body ?? {}), issues, failure }, platformErrorStatus(err));
  };

  router.get('/platforms', async (req, res) => {
    const t = translator(req);
    renderPage(req, res, 'platforms', { title: t('platforms.title'), ...(await platformListModel(app, t)) });
  });

  router.get('/platforms/new', async (req, res) => {
    const t = translator(req);
    if (!req.query.plugin) { renderPage(req, res, 'platforms', { title: t('platforms.new.pick'), picking: true, ...(await platformListModel(app, t)) }); return; }
    const plugin = app.plugins.get(str(req.query.plugin));
    showForm(req, res, { plugin, values: defaultValues(configFields(plugin.configSchema)) });
  });

  router.post('/platforms', async (req, res) => {
    const t = translator(req);
    const plugin = app.plugins.get(str(req.body?.plugin));
    const fields = configFields(plugin.configSchema);
    const { config, problems } = readForm(fields, req.body ?? {}, t);
    const name = str(req.body?.name).trim();
    const skipTest = str(req.body?.skipTest) !== '';
    try {
      if (problems.length) throw formRefusal(plugin, config, problems, issueLocale(req));
      await addPlatform(app, { name, plugin: plugin.id, config, skipTest }, actor(req), issueLocale(req));
    } catch (err) {
      refused(req, res, err, { plugin, newName: name, skipTest }, fields);
      return;
    }
    flash(req, 'ok', t('platforms.added', { name }));
    res.redirect(303, editUrl(req, name));
  });

  router.post('/platforms/autodetect', async (req, res) => {
    const t = translator(req);
    const plugin = app.plugins.get(str(req.body?.plugin));
    const name = str(req.body?.name).trim();
    const address = str(req.body?.address).trim();
    const nameserver = str(req.body?.nameserver).trim();
    try {
      const { detected } = await autodetectPlatform(app, { name, plugin: plugin.id, address, password: str(req.body?.password), nameservers: nameserver ? [nameserver] : [] }, actor(req));
      flash(req, 'ok', t('platforms.autodetect.added', { name, host: String(detected.config.host), port: String(detected.config.port), source: detected.source }));
      res.redirect(303, editUrl(req, name));
    } catch (err) {
      if (!(err instanceof CutoverError)) throw err;
      showForm(req, res, { plugin, newName: name, values: defaultValues(configFields(plugin.configSchema)), autodetect: { address, nameserver, error: platformErrorText(req, err) } }, platformErrorStatus(err));
    }
  });

  router.get('/platforms/:name', (req, res) => { res.redirect(303, editUrl(req, req.params.name)); });

  router.get('/platforms/:name/edit', async (req, res) => {
    const details = await platformDetails(app, req.params.name);
    const plugin = app.plugins.get(details.plugin);
    showForm(req, res, {
      plugin, name: details.name, values: valuesFromConfig(configFields(plugin.configSchema), details.config),
      storedSecrets: details.secrets, usedBy: details.usedBy, pendingKey: pendingKey(req, app, details.name),
    });
  });

  router.post('/platforms/:name', async (req, res) => {
    const t = translator(req);
    const details = await platformDetails(app, req.params.name);
    const plugin = app.plugins.get(details.plugin);
    const fields = configFields(plugin.configSchema);
    const { config, problems } = readForm(fields, req.body ?? {}, t);
    try {
      if (problems.length) throw formRefusal(plugin, config, problems, issueLocale(req));
      await updatePlatform(app, details.name, { config, clearSecrets: list(req.body?._clear) }, actor(req), issueLocale(req));
    } catch (err) {
      refused(req, res, err, { plugin, name: details.name, storedSecrets: details.secrets, usedBy: details.usedBy, pendingKey: pendingKey(req, app, details.name) }, fields);
      return;
    }
    flash(req, 'ok', t('platforms.saved', { name: details.name }));
    res.redirect(303, editUrl(req, details.name));
  });

  // Two steps: without `confirm` the page asks (or says which projects hold it); with it, it goes.
  router.post('/platforms/:name/remove', async (req, res) => {
    const t = translator(req);
    const details = await platformDetails(app, req.params.name);
    if (req.body?.confirm !== 'yes' || details.usedBy.length) {
      renderPage(req, res, 'platform-remove', { title: t('platforms.remove.title', { name: details.name }), ...details }, details.usedBy.length ? 409 : 200);
      return;
    }
    await removePlatform(app, details.name, actor(req));
    flash(req, 'ok', t('platforms.removed', { name: details.name }));
    res.redirect(303, `${req.baseUrl}/platforms`);
  });

  router.post('/platforms/:name/test', async (req, res) => {
    const t = translator(req);
    const probe = { domain: str(req.body?.domain), mailbox: str(req.body?.mailbox), password: str(req.body?.password), zone: str(req.body?.zone) };
    const report = await testPlatform(app, req.params.name, probe, actor(req));
    renderPage(req, res, 'platform-test', {
      title: t('platforms.test.title', { name: report.name }), ...testPageModel(report, t, (err) => platformErrorText(req, err)),
      probe: { domain: probe.domain, mailbox: probe.mailbox, zone: probe.zone }, testsPlatform: report.kinds.includes('platform'), testsDns: report.kinds.includes('dns'),
    });
  });

  router.post('/platforms/:name/consumer-key', async (req, res) => {
    const key = await requestPlatformKey(app, req.params.name, actor(req));
    keepPendingKey(req, app, req.params.name, key);
    flash(req, 'ok', translator(req)('platforms.ovh.requested', { rules: key.rules.length }));
    res.redirect(303, editUrl(req, req.params.name));
  });

  router.post('/platforms/:name/consumer-key/confirm', async (req, res) => {
    const t = translator(req);
    const name = req.params.name;
    const pending = pendingKey(req, app, name);
    if (!pending) { flash(req, 'error', t('platforms.ovh.nothingPending')); res.redirect(303, editUrl(req, name)); return; }
    const { state } = await storeValidatedKey(app, name, pending.consumerKey, actor(req));
    if (state !== 'pendingValidation') dropPendingKey(req, name);
    flash(req, state === 'validated' ? 'ok' : 'error', t(state === 'validated' ? 'platforms.ovh.stored' : state === 'pendingValidation' ? 'platforms.ovh.notValidated' : 'platforms.ovh.invalid'));
    res.redirect(303, editUrl(req, name));
  });

  // This area's refusals as a page with the right status; anything else goes on to the panel's handler.
  router.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (!(err instanceof CutoverError) || err.code === 'INTERNAL') return next(err);
    const t = translator(req);
    renderPage(req, res, 'message', { title: t('platforms.error.title'), text: platformErrorText(req, err) }, platformErrorStatus(err));
  });

  return router;
}
