import express, { type Request, type Router } from 'express';
import { z } from 'zod';
import { projectById, projectOptions } from '../../db/repos/projects.ts';
import { copyWindowSchema, isTimeZone, letterLanguagesSchema, MAX_RETENTION_DAYS } from '../../db/repos/project-schedule-schema.ts';
import { MAX_BYTES_PER_SECOND } from '../../mail/bandwidth.ts';
import { setUserSettings, userById } from '../../db/repos/users.ts';
import { mailboxProgress, statesOverTime, throughput } from '../../daily/charts.ts';
import { composeLetter, isLetterKind, letterCounts, letterTemplate, letterValues, LETTER_KINDS, resetTemplate, saveTemplate } from '../../daily/letters.ts';
import { purgeProjectData, retentionStatus } from '../../daily/retention.ts';
import { scheduleView, setHostCap, updateSchedule } from '../../daily/schedule.ts';
import { platformByName } from '../../db/repos/platforms.ts';
import { CutoverError } from '../../errors.ts';
import type { WebContext } from '../context.ts';
import { webActor } from '../actions.ts';
import { isLanguage } from '../i18n.ts';
import { mailboxId } from './mailboxes.ts';
import { projectIdParam } from './projects.ts';

const scheduleBody = z.object({
  startAt: z.iso.datetime({ offset: true }).nullable().optional(),
  copyWindow: copyWindowSchema.nullable().optional(),
  maxBytesPerSecond: z.number().int().min(1024).max(MAX_BYTES_PER_SECOND).nullable().optional(),
  retentionDays: z.number().int().min(0).max(MAX_RETENTION_DAYS).optional(),
  timeZone: z.string().max(64).refine(isTimeZone, 'an IANA time zone').optional(),
  letters: z.object({ before: z.boolean(), after: z.boolean() }).optional(),
  letterLanguages: letterLanguagesSchema.optional(),
}).strict();
const templateBody = z.object({ subject: z.string().max(1000), body: z.string().max(50_000) }).strict();
const settingsBody = z.object({ timeZone: z.string().max(64).nullable().optional(), language: z.enum(['en', 'fr']).optional() }).strict();

function body<T>(schema: z.ZodType<T>, req: Request): T {
  const parsed = schema.safeParse(req.body ?? {});
  if (!parsed.success) throw new CutoverError('INPUT_INVALID', { detail: parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ') });
  return parsed.data;
}

/** The JSON side of schedule, charts, letters, retention and the admin's settings. */
export function apiDailyRoutes(web: WebContext): Router {
  const router = express.Router();
  const actor = (req: Request) => webActor(req.session.userName);

  router.get('/api/projects/:id/schedule', async (req, res) => {
    const project = await projectById(web.app.db, projectIdParam(req));
    const source = await web.app.db('platforms').where({ id: project.source_platform_id }).first('name', 'max_bytes_per_second');
    res.json({ ...scheduleView(projectOptions(project)), sourceHost: { platform: source.name, maxBytesPerSecond: source.max_bytes_per_second === null ? null : Number(source.max_bytes_per_second) }, retention: await retentionStatus(web.app.db, project) });
  });
  router.put('/api/projects/:id/schedule', async (req, res) => {
    const patch = body(scheduleBody, req);
    const { options, woken } = await updateSchedule(web.app, projectIdParam(req), patch, actor(req));
    res.json({ ...scheduleView(options), woken });
  });
  router.post('/api/projects/:id/purge', async (req, res) => {
    if (req.body?.confirm !== true) throw new CutoverError('INPUT_INVALID', { detail: 'confirm: true is required: stored passwords, logins, per-message rows and files are deleted for good' });
    res.json(await purgeProjectData(web.app, projectIdParam(req), actor(req), 'admin'));
  });
  router.get('/api/projects/:id/charts', async (req, res) => {
    const id = projectIdParam(req);
    await projectById(web.app.db, id);
    res.json({ throughput: await throughput(web.app.db, id), states: await statesOverTime(web.app.db, id) });
  });
  router.get('/api/mailboxes/:id/chart', async (req, res) => {
    res.json({ progress: await mailboxProgress(web.app.db, mailboxId(req)) });
  });
  router.get('/api/projects/:id/letters', async (req, res) => {
    const project = await projectById(web.app.db, projectIdParam(req));
    const options = projectOptions(project);
    const counts = await letterCounts(web.app.db, project.id);
    res.json({
      languages: options.letterLanguages, smtp: Boolean(web.app.config.smtp),
      letters: await Promise.all(LETTER_KINDS.map(async (kind) => ({
        kind, enabled: options.letters[kind], ...counts.find((c) => c.kind === kind),
        templates: { en: await letterTemplate(web.app.db, project.id, kind, 'en'), fr: await letterTemplate(web.app.db, project.id, kind, 'fr') },
      }))),
    });
  });
  router.put('/api/projects/:id/letters/:kind/:lang', async (req, res) => {
    const { kind, lang } = req.params;
    if (!isLetterKind(kind) || (lang !== 'en' && lang !== 'fr')) throw new CutoverError('INPUT_INVALID', { detail: `no letter ${kind}/${lang}: before or after, en or fr` });
    const { subject, body: text } = body(templateBody, req);
    await saveTemplate(web.app.db, projectIdParam(req), kind, lang, subject, text, actor(req));
    res.json(await letterTemplate(web.app.db, projectIdParam(req), kind, lang));
  });
  router.delete('/api/projects/:id/letters/:kind/:lang', async (req, res) => {
    const { kind, lang } = req.params;
    if (!isLetterKind(kind) || (lang !== 'en' && lang !== 'fr')) throw new CutoverError('INPUT_INVALID', { detail: `no letter ${kind}/${lang}: before or after, en or fr` });
    await resetTemplate(web.app.db, projectIdParam(req), kind, lang);
    res.json(await letterTemplate(web.app.db, projectIdParam(req), kind, lang));
  });
  router.get('/api/projects/:id/letters/:kind/preview', async (req, res) => {
    const kind = req.params.kind;
    if (!isLetterKind(kind)) throw new CutoverError('INPUT_INVALID', { detail: `no letter ${kind}: before or after` });
    const project = await projectById(web.app.db, projectIdParam(req));
    const wanted = /^\d+$/.test(String(req.query.mailbox ?? '')) ? Number(req.query.mailbox) : undefined;
    const mailbox = await web.app.db('mailboxes').where({ project_id: project.id }).modify((q) => { if (wanted) q.andWhere({ id: wanted }); }).orderBy('address').first();
    if (!mailbox) throw new CutoverError('MAILBOX_UNKNOWN', { ref: String(req.query.mailbox ?? '(none in the project)') });
    res.json({ to: mailbox.address, ...await composeLetter(web.app.db, project, kind, await letterValues(web.app, project, mailbox, kind, true)) });
  });
  router.put('/api/platforms/:name/bandwidth', async (req, res) => {
    const { maxBytesPerSecond } = body(z.object({ maxBytesPerSecond: z.number().int().min(1024).max(MAX_BYTES_PER_SECOND).nullable() }).strict(), req);
    const platform = await platformByName(web.app.db, String(req.params.name));
    await setHostCap(web.app, platform.id, maxBytesPerSecond, actor(req));
    res.json({ platform: platform.name, maxBytesPerSecond });
  });
  router.get('/api/settings', async (req, res) => {
    const user = await userById(web.app.db, req.session.userId);
    res.json({ timeZone: user?.time_zone ?? null, language: user?.language ?? null, serverTimeZone: Intl.DateTimeFormat().resolvedOptions().timeZone });
  });
  router.put('/api/settings', async (req, res) => {
    const wanted = body(settingsBody, req);
    if (wanted.timeZone && !isTimeZone(wanted.timeZone)) throw new CutoverError('INPUT_INVALID', { detail: `timeZone: "${wanted.timeZone}" is not a time zone this server knows` });
    const user = await userById(web.app.db, req.session.userId);
    if (!user) throw new CutoverError('INPUT_INVALID', { detail: 'an API token acts for an admin; this one has none' });
    const language = wanted.language ?? (isLanguage(user.language) ? user.language : 'en');
    const timeZone = wanted.timeZone === undefined ? user.time_zone ?? null : wanted.timeZone || null;
    await setUserSettings(web.app.db, user.id, { language, time_zone: timeZone });
    res.json({ timeZone, language });
  });
  return router;
}
