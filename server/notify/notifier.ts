import type { AppContext } from '../context.ts';
import { platformById } from '../db/repos/platforms.ts';
import { listProjects, projectById, projectOptions, type ProjectRow } from '../db/repos/projects.ts';
import { backoffDelay } from '../workflow/backoff.ts';
import { composeMail } from './compose.ts';
import { dailyTick } from '../daily/tick.ts';
import { detect } from './detect.ts';
import { sendMail } from './smtp.ts';
import { claimDue, defer, lastDigestSentAt, markFailed, markSent, NEEDS_ADMIN_KINDS, recordOnce, type NotificationRow } from './store.ts';

/** About 8 hours of retries on the workflow's backoff curve before a mail is given up (and kept, with its error). */
export const MAX_SEND_ATTEMPTS = 20;
/** Needs-an-admin mails of one project go out at most this often; what comes up meanwhile waits for the next digest. */
export const DIGEST_INTERVAL_MS = 15 * 60_000;
const NO_SMTP = 'not sent: no SMTP server configured (CUTOVER_SMTP_URL)';

function recipientsOf(project: ProjectRow): string[] {
  try { return projectOptions(project).notify; } catch { return []; }
}

/**
 * Looks at every project with recipients and records what is new. Without an SMTP server the
 * rows are recorded as skipped, so turning mail on later does not send months of old news.
 */
export async function detectAll(app: AppContext): Promise<number> {
  let recorded = 0;
  for (const project of await listProjects(app.db)) {
    const recipients = recipientsOf(project);
    if (recipients.length === 0) continue;
    for (const found of await detect(app.db, project)) {
      if (await recordOnce(app.db, found, recipients, app.config.smtp ? 'pending' : 'skipped', app.config.smtp ? undefined : NO_SMTP)) recorded++;
    }
  }
  return recorded;
}

// Project events go alone; needs-an-admin rows of one project go together.
function group(rows: NotificationRow[]): NotificationRow[][] {
  const digests = new Map<number, NotificationRow[]>();
  const groups: NotificationRow[][] = [];
  for (const row of rows) {
    if (!NEEDS_ADMIN_KINDS.includes(row.kind)) { groups.push([row]); continue; }
    if (!digests.has(row.project_id)) { digests.set(row.project_id, []); groups.push(digests.get(row.project_id)!); }
    digests.get(row.project_id)!.push(row);
  }
  return groups;
}

async function sendGroup(app: AppContext, rows: NotificationRow[], now: number): Promise<boolean> {
  const smtp = app.config.smtp!;
  const first = rows[0]!;
  const ids = rows.map((r) => r.id);
  if (NEEDS_ADMIN_KINDS.includes(first.kind)) {
    const last = await lastDigestSentAt(app.db, first.project_id);
    if (last > now - DIGEST_INTERVAL_MS) { await defer(app.db, ids, last + DIGEST_INTERVAL_MS); return false; }
  }
  try {
    const project = await projectById(app.db, first.project_id);
    const [source, destination] = await Promise.all([platformById(app.db, project.source_platform_id), platformById(app.db, project.dest_platform_id)]);
    const mail = composeMail(rows, { project, source: source.name, destination: destination.name, panelUrl: app.config.panelUrl });
    const to = [...new Set(rows.flatMap((r) => JSON.parse(r.recipients) as string[]))];
    await sendMail(smtp, to, mail);
    await markSent(app.db, ids);
    return true;
  } catch (err) {
    const message = (err instanceof Error ? err.message : String(err)).slice(0, 500);
    app.log.warn({ notification: ids, kind: first.kind, attempts: first.attempts + 1, error: message }, 'notification mail not sent; will retry');
    await markFailed(app.db, rows, message, (attempts) => (attempts >= MAX_SEND_ATTEMPTS ? null : now + backoffDelay(attempts)));
    return false;
  }
}

/** Sends what is due; failures stay on their rows with the next attempt time. */
export async function deliverDue(app: AppContext, now: number): Promise<number> {
  if (!app.config.smtp) return 0;
  let sent = 0;
  for (const rows of group(await claimDue(app.db, now, 500))) if (await sendGroup(app, rows, now)) sent++;
  return sent;
}

/** One pass: record what is new, send what is due. Safe to run from several workers at once. */
export async function notifyTick(app: AppContext, now = Date.now()): Promise<{ recorded: number; sent: number }> {
  const recorded = await detectAll(app);
  const sent = await deliverDue(app, now);
  // The letters to the end users go through the same SMTP server, on the same timer; the state chart samples too.
  await dailyTick(app, now);
  return { recorded, sent };
}
