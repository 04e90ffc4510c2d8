import { groupwareLines, type GroupwareLine } from '../../services/groupware-view.ts';
import type { AppContext } from '../../context.ts';
import { mailboxEventsPage, type EventRow } from '../../db/repos/events.ts';
import { mailboxById } from '../../db/repos/mailboxes.ts';
import { projectById } from '../../db/repos/projects.ts';
import { addTally, folderTallies, skipList, zeroTally } from '../../db/repos/tallies.ts';
import { waitingFor } from '../../services/report.ts';
import { folderPlanView, type PlanLock } from '../../services/folder-plan-view.ts';
import { syncPoints, type SyncPoint } from '../../services/rollback.ts';
import { copyMail } from '../../workflow/steps/copy-mail.ts';
import { stepById, steps } from '../../workflow/steps/index.ts';
import { isCopying, progress, size, type Progress, type Size } from './progress.ts';

export interface FolderLine {
  source: string;
  dest: string;
  excluded: boolean;
  /** The RFC 6154 use without its backslash ("Sent"), for the page. */
  specialUse: string | null;
  edited: boolean;
  copied: number;
  copiedBytes: number;
  skipped: number;
  failed: number;
  /** Per-folder progress against preflight's count of that folder. */
  progress: Progress;
}

export interface MailboxPageModel {
  mailbox: { id: number; address: string; state: string; step: string; tempAddress: string | null; error: string | null; errorCode: string | null; waitingFor: string | null; lastSyncAt: string | null; syncPasses: number; held: boolean };
  project: { id: number; name: string };
  progress: Progress;
  steps: Array<{ id: string; status: 'done' | 'current' | 'todo' }>;
  /** The timeline, newest first, one page (eventsPage) at a time. */
  events: Array<Pick<EventRow, 'at' | 'step' | 'outcome' | 'message' | 'actor'>>;
  eventsPage: { page: number; pages: number; total: number };
  plan: { fixed: boolean; editable: boolean; lock: PlanLock | null };
  folders: FolderLine[];
  skips: Array<{ folder: string; uid: number; size: number; kind: string; reason: string }>;
  skipsTotal: number;
  syncPoints: Array<SyncPoint & { size: Size }>;
  groupware: GroupwareLine[];
}

const SKIPS_SHOWN = 200;

const EVENTS_PER_PAGE = 100;

export async function mailboxPageModel(app: AppContext, id: number, now = Date.now(), eventsPage = 1): Promise<MailboxPageModel> {
  const row = await mailboxById(app.db, id);
  const project = await projectById(app.db, row.project_id);
  const tallies = await folderTallies(app.db, row.id);
  const all = [...tallies.values()].reduce(addTally, zeroTally());
  const skips = await skipList(app.db, row.id, SKIPS_SHOWN);
  const events = await mailboxEventsPage(app.db, row.id, eventsPage, EVENTS_PER_PAGE);
  const plan = await folderPlanView(app.db, row);
  const points = await syncPoints(app.db, row.id);
  const step = stepById(row.step);
  const current = steps.indexOf(step);
  const copying = isCopying(row, copyMail.id);
  const copyStartedAt = points[0]?.startedAt ?? (await app.db('events').where({ mailbox_id: row.id, step: copyMail.id }).orderBy('id').first('at'))?.at ?? null;
  const included = plan.folders.filter((f) => !f.excluded);
  const counted = included.length > 0 && included.every((f) => f.messages !== null);

  const folders = plan.folders.map((entry): FolderLine => {
    const tally = tallies.get(entry.source) ?? zeroTally();
    return {
      source: entry.source, dest: entry.dest, excluded: entry.excluded, specialUse: entry.specialUse?.replace(/^\\/, '') ?? null, edited: entry.edited,
      copied: tally.copiedMessages, copiedBytes: tally.copiedBytes, skipped: tally.skippedMessages, failed: tally.refusedMessages,
      progress: progress({ copied: tally.copiedMessages, copiedBytes: tally.copiedBytes, total: entry.messages, totalBytes: entry.bytes, copyStartedAt: null, copying: false }, now),
    };
  });
  // Totals from the plan's folders when preflight counted each of them; preflight's own totals otherwise.
  const preflight: { totalMessages?: number; totalBytes?: number } | null = row.preflight ? JSON.parse(row.preflight) : null;
  const total = counted ? included.reduce((n, f) => n + f.messages!, 0) : preflight?.totalMessages ?? null;
  const totalBytes = counted ? included.reduce((n, f) => n + f.bytes!, 0) : preflight?.totalBytes ?? null;

  return {
    mailbox: {
      id: row.id, address: row.address, state: row.state, step: row.step, tempAddress: row.temp_address,
      error: row.error_message, errorCode: row.error_code, waitingFor: await waitingFor(app, row), lastSyncAt: row.last_sync_at, syncPasses: row.sync_passes,
      held: row.locked_until !== null && Number(row.locked_until) > now,
    },
    project: { id: project.id, name: project.name },
    progress: progress({ copied: all.copiedMessages, copiedBytes: all.copiedBytes, total, totalBytes, copyStartedAt, copying }, now),
    steps: steps.map((s, i) => ({ id: s.id, status: row.state === 'done' || i < current ? 'done' : i === current ? 'current' : 'todo' })),
    events: events.rows.map((e) => ({ at: e.at, step: e.step, outcome: e.outcome, message: e.message, actor: e.actor })),
    eventsPage: { page: events.page, pages: events.pages, total: events.total },
    plan: { fixed: plan.fixed, editable: plan.editable, lock: plan.lock },
    folders,
    skips,
    skipsTotal: all.skippedMessages + all.refusedMessages,
    syncPoints: points.map((p) => ({ ...p, size: size(p.bytes) })),
    groupware: await groupwareLines(app.db, row.id),
  };
}
