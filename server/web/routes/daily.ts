import express, { type Request, type Router } from 'express';
import { projectById, projectOptions } from '../../db/repos/projects.ts';
import { isTimeZone } from '../../db/repos/project-schedule-schema.ts';
import { setUserSettings, userById } from '../../db/repos/users.ts';
import { composeLetter, isLetterKind, letterPage, letterTemplate, letterValues, PLACEHOLDERS, resetTemplate, saveTemplate, type LetterLanguage } from '../../daily/letters.ts';
import { purgeProjectData } from '../../daily/retention.ts';
import { setHostCap, updateSchedule, zonedToIso, type SchedulePatch } from '../../daily/schedule.ts';
import { parseSize } from '../../cli/copy.ts';
import { CutoverError } from '../../errors.ts';
import type { WebContext } from '../context.ts';
import { webActor } from '../actions.ts';
import { isLanguage, LANGUAGES, t as translate } from '../i18n.ts';
import { flash, languageOf, renderPage, translator } from '../page.ts';
import { formErrorOrThrow, projectIdParam } from './projects.ts';

const field = (req: Request, name: string, max = 200): string => {
  const value = req.body?.[name];
  return typeof value === 'string' ? value.trim().slice(0, max + 1) : '';
};

/** The schedule form as a patch; each mistake named in the admin's words. */
export function schedulePatchFromForm(req: Request): SchedulePatch {
  const t = translator(req);
  const zone = field(req, 'timeZone', 64) || 'UTC';
  if (!isTimeZone(zone)) throw new CutoverError('INPUT_INVALID', { detail: t('settings.badZone', { zone }) });
  const patch: SchedulePatch = { timeZone: zone };
  const start = field(req, 'startAt', 32);
  if (start) {
    const iso = zonedToIso(start, zone);
    if (!iso) throw new CutoverError('INPUT_INVALID', { detail: t('schedule.badTime', { value: start }) });
    patch.startAt = iso;
  } else patch.startAt = null;
  const from = field(req, 'windowFrom', 5);
  const to = field(req, 'windowTo', 5);
  const windowZone = field(req, 'windowZone', 64) || zone;
  if (from || to) {
    if (!/^\d{2}:\d{2}$/.test(from) || !/^\d{2}:\d{2}$/.test(to)) throw new CutoverError('INPUT_INVALID', { detail: t('schedule.badClock') });
    if (!isTimeZone(windowZone)) throw new CutoverError('INPUT_INVALID', { detail: t('settings.badZone', { zone: windowZone }) });
    patch.copyWindow = { from, to, timeZone: windowZone };
  } else patch.copyWindow = null;
  const cap = field(req, 'cap', 20);
  if (cap) {
    let rate: number | undefined;
    try { rate = parseSize(cap, 'cap'); } catch { rate = undefined; }
    if (rate === undefined || rate < 1024 || rate > 1_250_000_000) throw new CutoverError('INPUT_INVALID', { detail: t('schedule.badSize', { value: cap }) });
    patch.maxBytesPerSecond = rate;
  } else patch.maxBytesPerSecond = null;
  const days = field(req, 'retentionDays', 5);
  if (days) {
    if (!/^\d{1,4}$/.test(days) || Number(days) > 3650) throw new CutoverError('INPUT_INVALID', { detail: t('schedule.badDays', { value: days }) });
    patch.retentionDays = Number(days);
  }
  return patch;
}

function letterLang(value: unknown): LetterLanguage | null {
  return value === 'en' || value === 'fr' ? value : null;
}

/** Schedule, letters, retention and the admin's own settings: the pages (CSRF-protected forms). */
export function dailyRoutes(web: WebContext): Router {
  const router = express.Router();
  const actor = (req: Request) => webActor(req.session.userName);

  router.post('/projects/:id/schedule', async (req, res) => {
    const t = translator(req);
    const id = projectIdParam(req);
    try {
      const patch = schedulePatchFromForm(req);
      const hostCap = field(req, 'hostCap', 20);
      let hostRate: number | null = null;
      if (hostCap) {
        try { hostRate = parseSize(hostCap, 'hostCap') ?? null; } catch { hostRate = null; }
        if (hostRate === null || hostRate < 1024 || hostRate > 1_250_000_000) throw new CutoverError('INPUT_INVALID', { detail: t('schedule.badSize', { value: hostCap }) });
      }
      const { woken } = await updateSchedule(web.app, id, patch, actor(req));
      const project = await projectById(web.app.db, id);
      const current = await web.app.db('platforms').where({ id: project.source_platform_id }).first('max_bytes_per_second');
      if (Number(current?.max_bytes_per_second ?? 0) !== (hostRate ?? 0)) await setHostCap(web.app, project.source_platform_id, hostRate, actor(req));
      flash(req, 'ok', t('schedule.saved', { woken }));
    } catch (err) {
      flash(req, 'error', formErrorOrThrow(req, err));
    }
    res.redirect(303, `${req.baseUrl}/projects/${id}#schedule`);
  });

  router.post('/projects/:id/purge', async (req, res) => {
    const t = translator(req);
    const id = projectIdParam(req);
    if (req.body?.confirm !== 'yes') { flash(req, 'error', t('retention.confirmFirst')); res.redirect(303, `${req.baseUrl}/projects/${id}#retention`); return; }
    try {
      const done = await purgeProjectData(web.app, id, actor(req), 'admin');
      flash(req, 'ok', t('retention.done', { secrets: done.secrets, ledger: done.ledgerRows, skips: done.skipRows, imports: done.importRows }));
    } catch (err) {
      flash(req, 'error', formErrorOrThrow(req, err));
    }
    res.redirect(303, `${req.baseUrl}/projects/${id}#retention`);
  });

  router.get('/projects/:id/letters/:kind', async (req, res, next) => {
    const kind = req.params.kind;
    if (!isLetterKind(kind)) return next();
    const t = translator(req);
    const project = await projectById(web.app.db, projectIdParam(req));
    const options = projectOptions(project);
    const sample = await web.app.db('mailboxes').where({ project_id: project.id }).orderBy('address').first();
    const mailbox = sample ?? { id: 0, project_id: project.id, address: 'user@example.net', state: 'queued', step: 'preflight', dest_password_generated: true, dest_password_sealed: 'x' };
    const preview = await composeLetter(web.app.db, project, kind, await letterValues(web.app, project, mailbox, kind, true));
    const page = Number.parseInt(String(req.query.page ?? '1'), 10);
    const sent = await letterPage(web.app.db, project.id, Number.isFinite(page) ? page : 1, web.pageSize);
    renderPage(req, res, 'letters', {
      title: t(kind === 'before' ? 'letters.before' : 'letters.after'),
      project: { id: project.id, name: project.name }, kind, enabled: options.letters[kind],
      letterLanguages: options.letterLanguages.join(','),
      templates: await Promise.all((['en', 'fr'] as const).map(async (lang) => ({ lang, ...(await letterTemplate(web.app.db, project.id, kind, lang)) }))),
      placeholders: PLACEHOLDERS[kind].map((p) => `{${p}}`).join(' '),
      preview, previewAddress: mailbox.address,
      sent: { ...sent, rows: sent.rows.map((r) => ({ ...r, statusText: t(`letters.status.${r.status}` as never) })) },
      previousPage: sent.page > 1 ? sent.page - 1 : null, nextPage: sent.page < sent.pages ? sent.page + 1 : null,
    });
  });

  router.post('/projects/:id/letters/:kind', async (req, res, next) => {
    const kind = req.params.kind;
    if (!isLetterKind(kind)) return next();
    const t = translator(req);
    const id = projectIdParam(req);
    const back = `${req.baseUrl}/projects/${id}/letters/${kind}`;
    try {
      if (req.body?.what === 'settings') {
        const project = await projectById(web.app.db, id);
        const options = projectOptions(project);
        const languages = field(req, 'letterLanguages', 10).split(',').map((l) => l.trim()).filter(Boolean);
        await updateSchedule(web.app, id, { letters: { ...options.letters, [kind]: req.body?.enabled === 'yes' }, letterLanguages: languages as Array<'en' | 'fr'> }, actor(req));
        flash(req, 'ok', t('letters.saved'));
      } else {
        const lang = letterLang(req.body?.lang);
        if (!lang) throw new CutoverError('INPUT_INVALID', { detail: 'lang: en or fr' });
        if (req.body?.what === 'reset') { await resetTemplate(web.app.db, id, kind, lang); flash(req, 'ok', t('letters.resetDone')); }
        else { await saveTemplate(web.app.db, id, kind, lang, req.body?.subject, req.body?.body, actor(req)); flash(req, 'ok', t('letters.saved')); }
      }
    } catch (err) {
      flash(req, 'error', formErrorOrThrow(req, err));
    }
    res.redirect(303, back);
  });

  router.get('/settings', async (req, res) => {
    const t = translator(req);
    const user = await userById(web.app.db, req.session.userId);
    const serverZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    const current = user?.time_zone ?? '';
    renderPage(req, res, 'settings', {
      title: t('settings.title'), serverZone,
      zones: Intl.supportedValuesOf('timeZone').map((zone) => ({ zone, selected: zone === current })),
      serverSelected: !current,
      languageChoices: LANGUAGES.map((code) => ({ code, label: translate(code, `lang.${code}`), selected: code === languageOf(req) })),
    });
  });

  router.post('/settings', async (req, res) => {
    const zone = field(req, 'timeZone', 64);
    const language = req.body?.language;
    const lang = isLanguage(language) ? language : languageOf(req);
    if (zone && !isTimeZone(zone)) {
      flash(req, 'error', translate(lang, 'settings.badZone', { zone }));
      res.redirect(303, `${req.baseUrl}/settings`);
      return;
    }
    await setUserSettings(web.app.db, req.session.userId!, { time_zone: zone || null, language: lang });
    req.session.lang = lang;
    if (zone) req.session.timeZone = zone; else delete req.session.timeZone;
    flash(req, 'ok', translate(lang, 'settings.saved', { zone: zone || Intl.DateTimeFormat().resolvedOptions().timeZone, language: translate(lang, `lang.${lang}`) }));
    res.redirect(303, `${req.baseUrl}/settings`);
  });

  return router;
}
