import type { ProjectRow } from '../db/repos/projects.ts';
import { LANGUAGES, t, type Language, type MessageKey } from '../web/i18n.ts';
import type { NotificationRow } from './store.ts';

export interface Mail { subject: string; text: string }

export interface MailContext {
  project: Pick<ProjectRow, 'id' | 'name'>;
  source: string;
  destination: string;
  /** The panel's address, no trailing slash (CUTOVER_PANEL_URL). */
  panelUrl: string;
}

const LINES_SHOWN = 50;

type Detail = Record<string, unknown> & {
  mailboxes?: number | Array<{ id: number; address: string; step: string; code: string | null; message: string | null }>;
  failed?: number;
};

function detailOf(row: NotificationRow): Detail {
  return row.detail ? JSON.parse(row.detail) : {};
}

/** One language's version of the mail: a summary, one line per item with its link, the project link, why you got it. */
function version(lang: Language, rows: NotificationRow[], ctx: MailContext): Mail {
  const w = (key: MessageKey, params: Record<string, string | number> = {}) => t(lang, key, { name: ctx.project.name, source: ctx.source, destination: ctx.destination, ...params });
  const projectLink = `${ctx.panelUrl}/projects/${ctx.project.id}`;
  const first = rows[0]!;
  const detail = detailOf(first);
  const lines: string[] = [];
  let subject: string;
  let summary: string;
  let link = w('notify.open', { url: projectLink });
  if (first.kind === 'project-started' || first.kind === 'project-completed') {
    const kind = first.kind === 'project-started' ? 'started' : 'completed';
    subject = w(`notify.${kind}.subject`);
    summary = w(`notify.${kind}.body`, { mailboxes: Number(detail.mailboxes ?? 0) });
    if (kind === 'completed') link += `\n${w('notify.report', { url: `${projectLink}/report` })}`;
  } else if (first.kind === 'project-failed') {
    const failed = Number(detail.failed ?? 0);
    subject = w('notify.failed.subject', { failed });
    summary = w('notify.failed.body', { failed });
    const mailboxes = Array.isArray(detail.mailboxes) ? detail.mailboxes : [];
    for (const m of mailboxes) lines.push(`- ${w('notify.failed.line', { address: m.address, step: m.step, code: m.code ?? '', message: m.message ?? '' })}\n  ${ctx.panelUrl}/mailboxes/${m.id}`);
    if (failed > mailboxes.length) lines.push(w('notify.more', { n: failed - mailboxes.length }));
    link = w('notify.open', { url: `${projectLink}?state=failed` });
  } else {
    subject = w('notify.needsAdmin.subject', { n: rows.length });
    summary = w('notify.needsAdmin.body');
    for (const row of rows.slice(0, LINES_SHOWN)) {
      const d = detailOf(row);
      const instructions = String(d.instructions ?? '').replace(/\s*\n\s*/g, ' ');
      lines.push(row.kind === 'domain-needs-admin'
        ? `- ${w('notify.needsAdmin.domain', { domain: String(d.domain), mailboxes: Number(d.mailboxes ?? 0), step: row.step ?? '', instructions })}\n  ${projectLink}?state=needs_admin`
        : `- ${w('notify.needsAdmin.mailbox', { address: String(d.address), step: row.step ?? '', instructions })}\n  ${ctx.panelUrl}/mailboxes/${row.mailbox_id}`);
    }
    if (rows.length > LINES_SHOWN) lines.push(w('notify.more', { n: rows.length - LINES_SHOWN }));
    link = w('notify.open', { url: `${projectLink}?state=needs_admin` });
  }
  const text = [summary, lines.join('\n'), link, `-- \n${w('notify.footer')}`].filter(Boolean).join('\n\n');
  return { subject, text };
}

/**
 * The mail for one notification, or one digest of needs-an-admin rows of a project: plain text,
 * English then French (recipients' languages are unknown), subject in both.
 */
export function composeMail(rows: NotificationRow[], ctx: MailContext): Mail {
  const versions = LANGUAGES.map((lang) => version(lang, rows, ctx));
  return {
    subject: `[cutover] ${versions.map((v) => v.subject).join(' / ')}`,
    text: `${versions.map((v) => v.text).join('\n\n======================================================================\n\n')}\n`,
  };
}
