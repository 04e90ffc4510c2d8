// Letters to the end users (steps 3 and 11 of Microsoft's migration guide): one before the move,
// to the user's current address, saying when it happens and what changes; one after it, to the new
// mailbox, with the new client settings and, when cutover generated the password, a one-time link
// to it (never the password in the mail). Templated per project and language (defaults below, the
// admin's edits in `letter_templates`), previewable, sent through the notifications' SMTP path, and
// recorded once per mailbox and kind (`letters`, unique).
import { createHash, randomBytes } from 'node:crypto';
import type { AppContext } from '../context.ts';
import type { Db } from '../db/knex.ts';
import { projectOptions, type ProjectOptions, type ProjectRow } from '../db/repos/projects.ts';
import { CutoverError } from '../errors.ts';
import { sendMail } from '../notify/smtp.ts';
import { clientSettings, type ClientSettings, type ServerSetting } from '../services/client-settings.ts';
import { backoffDelay } from '../workflow/backoff.ts';
import { letterDefaults } from './letter-defaults.ts';

export const LETTER_KINDS = ['before', 'after'] as const;
export type LetterKind = (typeof LETTER_KINDS)[number];
export type LetterLanguage = 'en' | 'fr';
export const SUBJECT_MAX = 200;
export const BODY_MAX = 20_000;
const LINK_DAYS = 14;
const MAX_ATTEMPTS = 20;

/** What a template may say; anything else in braces is refused when it is saved. */
export const PLACEHOLDERS: Record<LetterKind, string[]> = {
  before: ['address', 'when', 'project', 'newImap', 'newSmtp'],
  after: ['address', 'when', 'project', 'userName', 'newImap', 'newSmtp', 'passwordLink'],
};

export function isLetterKind(value: unknown): value is LetterKind {
  return typeof value === 'string' && (LETTER_KINDS as readonly string[]).includes(value);
}

export interface Template { subject: string; body: string; edited: boolean }

export async function letterTemplate(db: Db, projectId: number, kind: LetterKind, lang: LetterLanguage): Promise<Template> {
  const row = await db('letter_templates').where({ project_id: projectId, kind, lang }).first();
  return row ? { subject: row.subject, body: row.body, edited: true } : { ...letterDefaults[kind][lang], edited: false };
}

/** Checks an edited template: lengths, one-line subject, only the placeholders of its kind. */
export function validateTemplate(kind: LetterKind, subject: unknown, body: unknown): { subject: string; body: string } {
  if (typeof subject !== 'string' || typeof body !== 'string') throw new CutoverError('INPUT_INVALID', { detail: 'a letter needs a subject and a text' });
  const s = subject.trim();
  const b = body.replace(/\r\n/g, '\n');
  if (!s || s.length > SUBJECT_MAX || /[\r\n\0]/.test(s)) throw new CutoverError('INPUT_INVALID', { detail: `the subject must be one line of 1 to ${SUBJECT_MAX} characters` });
  if (!b.trim() || b.length > BODY_MAX || b.includes('\0')) throw new CutoverError('INPUT_INVALID', { detail: `the text must have 1 to ${BODY_MAX} characters` });
  const unknown = [...`${s}\n${b}`.matchAll(/\{(\w*)\}/g)].map((m) => m[1]!).filter((p) => !PLACEHOLDERS[kind].includes(p));
  if (unknown.length) throw new CutoverError('INPUT_INVALID', { detail: `unknown placeholder(s) ${[...new Set(unknown)].map((p) => `{${p}}`).join(', ')}; allowed: ${PLACEHOLDERS[kind].map((p) => `{${p}}`).join(', ')}` });
  return { subject: s, body: b };
}

export async function saveTemplate(db: Db, projectId: number, kind: LetterKind, lang: LetterLanguage, subject: unknown, body: unknown, actor: string): Promise<void> {
  const valid = validateTemplate(kind, subject, body);
  const key = { project_id: projectId, kind, lang };
  const row = { ...valid, updated_by: actor, updated_at: new Date().toISOString() };
  if (await db('letter_templates').where(key).update(row) === 0) await db('letter_templates').insert({ ...key, ...row });
}

export async function resetTemplate(db: Db, projectId: number, kind: LetterKind, lang: LetterLanguage): Promise<void> {
  await db('letter_templates').where({ project_id: projectId, kind, lang }).delete();
}

/** A time inside a sentence of the letter, in its language and the project's zone ("7 déc. 2026, 20:00 UTC+1"). */
export function letterTime(lang: LetterLanguage, at: number, timeZone: string): string {
  return new Intl.DateTimeFormat(lang === 'fr' ? 'fr-FR' : 'en-GB', { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric', hour: '2-digit', minute: '2-digit', timeZone, timeZoneName: 'short' }).format(at);
}

const SECURITY_WORDS: Record<LetterLanguage, Record<ServerSetting['security'], string>> = {
  en: { ssl: 'SSL/TLS', starttls: 'STARTTLS', none: 'no encryption' },
  fr: { ssl: 'SSL/TLS', starttls: 'STARTTLS', none: 'sans chiffrement' },
};
const UNKNOWN_SERVER: Record<LetterLanguage, string> = { en: 'ask your administrator', fr: 'demandez à votre administrateur' };
const NO_LINK: Record<LetterLanguage, string> = { en: 'Your password has not changed.', fr: "Votre mot de passe n'a pas changé." };
const NOW: Record<LetterLanguage, string> = { en: 'in the coming days', fr: 'dans les prochains jours' };
const ON: Record<LetterLanguage, string> = { en: 'on', fr: 'le' };

function server(lang: LetterLanguage, s: ServerSetting | null): string {
  return s ? `${s.host}, port ${s.port}, ${SECURITY_WORDS[lang][s.security]}` : UNKNOWN_SERVER[lang];
}

export interface LetterValues { address: string; project: string; when: number | null; settings: Pick<ClientSettings, 'userName' | 'imap' | 'smtp'>; passwordLink: string | null }

function fill(text: string, lang: LetterLanguage, values: LetterValues, timeZone: string): string {
  const words: Record<string, string> = {
    address: values.address, project: values.project, userName: values.settings.userName,
    when: values.when === null ? NOW[lang] : `${ON[lang]} ${letterTime(lang, values.when, timeZone)}`,
    newImap: server(lang, values.settings.imap), newSmtp: server(lang, values.settings.smtp),
    passwordLink: values.passwordLink ?? NO_LINK[lang],
  };
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => words[name] ?? whole);
}

export interface ComposedLetter { subject: string; text: string }

/** The mail: each of the project's letter languages in turn, the subjects joined (as the admins' notifications do). */
export async function composeLetter(db: Db, project: ProjectRow, kind: LetterKind, values: LetterValues): Promise<ComposedLetter> {
  const options = projectOptions(project);
  const versions = await Promise.all(options.letterLanguages.map(async (lang) => {
    const template = await letterTemplate(db, project.id, kind, lang);
    return { subject: fill(template.subject, lang, values, options.timeZone), text: fill(template.body, lang, values, options.timeZone) };
  }));
  return { subject: versions.map((v) => v.subject).join(' / '), text: versions.map((v) => v.text.trimEnd()).join('\n\n----------------------------------------\n\n') + '\n' };
}

/** When the move happens, as the letter before it says: the start time, or the mailbox's own wait. */
function moveTime(options: ProjectOptions): number | null {
  return options.startAt ? Date.parse(options.startAt) : null;
}

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** A link that shows a generated password once; only its hash is stored. */
export async function createPasswordLink(db: Db, mailboxId: number, panelUrl: string, now = Date.now()): Promise<string> {
  const token = randomBytes(32).toString('base64url');
  // A letter sent again (a retry after a refused send) replaces the link the lost one carried.
  await db('one_time_links').where({ mailbox_id: mailboxId, purpose: 'password' }).whereNull('used_at').delete();
  await db('one_time_links').insert({ token_hash: hashToken(token), mailbox_id: mailboxId, purpose: 'password', expires_at: now + LINK_DAYS * 86_400_000 });
  return `${panelUrl}/welcome/${token}`;
}

/** Uses a one-time link: the mailbox it was for, once; a used, expired or unknown link is refused alike. */
export async function consumeLink(db: Db, token: string, now = Date.now()): Promise<number> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) throw new CutoverError('LINK_EXPIRED');
  const hash = hashToken(token);
  const used = await db('one_time_links').where({ token_hash: hash }).whereNull('used_at').andWhere('expires_at', '>', now).update({ used_at: new Date(now).toISOString() });
  if (used !== 1) throw new CutoverError('LINK_EXPIRED');
  return Number((await db('one_time_links').where({ token_hash: hash }).first('mailbox_id')).mailbox_id);
}

export async function linkIsLive(db: Db, token: string, now = Date.now()): Promise<boolean> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return false;
  return Boolean(await db('one_time_links').where({ token_hash: hashToken(token) }).whereNull('used_at').andWhere('expires_at', '>', now).first());
}

type MailboxForLetter = { id: number; project_id: number; address: string; state: string; step: string; dest_password_generated: boolean | number; dest_password_sealed: string | null };

/** The values of one mailbox's letter; `forPreview` never creates a link. */
export async function letterValues(app: AppContext, project: ProjectRow, mailbox: MailboxForLetter, kind: LetterKind, forPreview: boolean): Promise<LetterValues> {
  const settings = await clientSettings(app, mailbox.id).catch(() => ({ userName: mailbox.address, imap: null, smtp: null }));
  const generated = Boolean(mailbox.dest_password_generated) && Boolean(mailbox.dest_password_sealed);
  const passwordLink = kind === 'after' && generated
    ? (forPreview ? `${app.config.panelUrl}/welcome/…` : await createPasswordLink(app.db, mailbox.id, app.config.panelUrl))
    : null;
  return { address: mailbox.address, project: project.name, when: kind === 'before' ? moveTime(projectOptions(project)) : Date.now(), settings, passwordLink };
}

/** Records the letters now due: before, for a mailbox of an active project not copied yet; after, for a mailbox done. Once each. */
export async function detectLetters(app: AppContext): Promise<number> {
  let recorded = 0;
  const projects: ProjectRow[] = await app.db('projects').where({ state: 'active' }).whereNull('purged_at');
  for (const project of projects) {
    const options = projectOptions(project);
    for (const kind of LETTER_KINDS) {
      if (!options.letters[kind]) continue;
      const due = app.db('mailboxes').where({ project_id: project.id })
        .whereNotExists(app.db('letters').whereRaw('letters.mailbox_id = mailboxes.id').andWhere({ kind }))
        .modify((q) => { if (kind === 'after') q.andWhere({ state: 'done' }); else q.whereIn('step', ['preflight', 'attach-domain', 'rename-source', 'create-destination']).whereNotIn('state', ['stopped', 'failed']); })
        .select('id', 'address').limit(1000);
      const now = new Date().toISOString();
      for (const m of await due as Array<{ id: number; address: string }>) {
        const inserted = await app.db('letters').insert({ project_id: project.id, mailbox_id: m.id, kind, to_address: m.address, status: 'pending', created_at: now }).onConflict(['mailbox_id', 'kind']).ignore();
        if ((Array.isArray(inserted) ? inserted.length : 1) > 0) recorded++;
      }
    }
  }
  return recorded;
}

/** Sends what is due through the configured SMTP server; a refusal is retried on the workflow's backoff. */
export async function deliverLetters(app: AppContext, now = Date.now()): Promise<number> {
  const smtp = app.config.smtp;
  if (!smtp) return 0;
  let sent = 0;
  const due: Array<{ id: number; project_id: number; mailbox_id: number; kind: LetterKind; to_address: string; attempts: number }> = await app.db('letters').where({ status: 'pending' }).andWhere('next_attempt_at', '<=', now).orderBy('id').limit(200);
  for (const letter of due) {
    // A short claim: another worker sending the same row sees it moved and leaves it.
    const claimed = await app.db('letters').where({ id: letter.id, status: 'pending', attempts: letter.attempts }).update({ status: 'sending', next_attempt_at: now + 60_000 });
    if (claimed !== 1) continue;
    try {
      const project: ProjectRow = await app.db('projects').where({ id: letter.project_id }).first();
      const mailbox: MailboxForLetter = await app.db('mailboxes').where({ id: letter.mailbox_id }).first();
      const mail = await composeLetter(app.db, project, letter.kind, await letterValues(app, project, mailbox, letter.kind, false));
      await sendMail(smtp, [letter.to_address], mail);
      await app.db('letters').where({ id: letter.id }).update({ status: 'sent', sent_at: new Date().toISOString(), attempts: letter.attempts + 1, last_error: null });
      sent++;
    } catch (err) {
      const attempts = letter.attempts + 1;
      const message = (err instanceof Error ? err.message : String(err)).slice(0, 500);
      await app.db('letters').where({ id: letter.id }).update({ status: attempts >= MAX_ATTEMPTS ? 'abandoned' : 'pending', attempts, next_attempt_at: now + backoffDelay(attempts), last_error: message });
      app.log.warn({ letter: letter.id, kind: letter.kind, attempts, error: message }, 'letter not sent; will retry');
    }
  }
  return sent;
}

/** One pass, beside the notifications: record what is due, send it. */
export async function letterTick(app: AppContext, now = Date.now()): Promise<{ recorded: number; sent: number }> {
  if (!app.config.smtp) return { recorded: 0, sent: 0 };
  const recorded = await detectLetters(app);
  return { recorded, sent: await deliverLetters(app, now) };
}

/** Per kind: how many letters were sent, are waiting, or were given up; for the project page. */
export async function letterCounts(db: Db, projectId: number): Promise<Array<{ kind: LetterKind; sent: number; pending: number; failed: number }>> {
  const rows: Array<{ kind: LetterKind; status: string; n: number | string }> = await db('letters').where({ project_id: projectId }).select('kind', 'status').count({ n: '*' }).groupBy('kind', 'status');
  return LETTER_KINDS.map((kind) => {
    const of = (statuses: string[]) => rows.filter((r) => r.kind === kind && statuses.includes(r.status)).reduce((n, r) => n + Number(r.n), 0);
    return { kind, sent: of(['sent']), pending: of(['pending', 'sending']), failed: of(['abandoned']) };
  });
}

/** One page of the letters of a project, newest first (LIMIT/OFFSET in SQL). */
export async function letterPage(db: Db, projectId: number, page: number, pageSize: number): Promise<{ rows: Array<{ kind: string; to: string; status: string; sentAt: string | null; error: string | null }>; total: number; page: number; pages: number }> {
  const [counted] = await db('letters').where({ project_id: projectId }).count({ n: '*' });
  const total = Number(counted?.n ?? 0);
  const pages = Math.max(1, Math.ceil(total / pageSize));
  const current = Math.min(Math.max(1, Math.floor(page)), pages);
  const rows = await db('letters').where({ project_id: projectId }).orderBy('id', 'desc').limit(pageSize).offset((current - 1) * pageSize).select('kind', 'to_address as to', 'status', 'sent_at as sentAt', 'last_error as error');
  return { rows, total, page: current, pages };
}
