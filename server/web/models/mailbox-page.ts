import type { AppContext } from '../../context.ts';
import { mailboxEvents, type EventRow } from '../../db/repos/events.ts';
import { mailboxById } from '../../db/repos/mailboxes.ts';
import { projectById } from '../../db/repos/projects.ts';
import { domainStep } from '../../db/repos/domains.ts';
import type { FolderPlanEntry } from '../../mail/folders.ts';
import { stepById, steps } from '../../workflow/steps/index.ts';
import { progress, type Progress } from './progress.ts';

export interface MailboxPageModel {
  mailbox: { id: number; address: string; state: string; step: string; tempAddress: string | null; error: string | null; errorCode: string | null; waitingFor: string | null; lastSyncAt: string | null; syncPasses: number };
  project: { id: number; name: string };
  progress: Progress;
  steps: Array<{ id: string; status: 'done' | 'current' | 'todo' }>;
  events: Array<Pick<EventRow, 'at' | 'step' | 'outcome' | 'message' | 'actor'>>;
  folders: Array<{ source: string; dest: string; excluded: boolean; copied: number; copiedBytes: number; skipped: number; failed: number }>;
  skips: Array<{ folder: string; uid: number; size: number; kind: string; reason: string }>;
  skipsTotal: number;
}

const SKIPS_SHOWN = 200;

export async function mailboxPageModel(app: AppContext, id: number): Promise<MailboxPageModel> {
  const row = await mailboxById(app.db, id);
  const project = await projectById(app.db, row.project_id);
  const plan: FolderPlanEntry[] = row.folder_plan ? JSON.parse(row.folder_plan) : [];
  type Tally = { source_folder: string; kind?: string; n: number | string; bytes: number | string | null };
  const copied: Tally[] = await app.db('ledger').where({ mailbox_id: row.id }).groupBy('source_folder').select('source_folder').count({ n: '*' }).sum({ bytes: 'size' });
  const skipped: Tally[] = await app.db('skips').where({ mailbox_id: row.id }).groupBy('source_folder', 'kind').select('source_folder', 'kind').count({ n: '*' }).sum({ bytes: 'size' });
  const skips = await app.db('skips').where({ mailbox_id: row.id }).select('source_folder as folder', 'uid', 'size', 'kind', 'reason').orderBy(['source_folder', 'uid']).limit(SKIPS_SHOWN);
  const events = await mailboxEvents(app.db, row.id);
  const preflight: { totalMessages?: number } | null = row.preflight ? JSON.parse(row.preflight) : null;
  const step = stepById(row.step);
  const waitingFor = step.level === 'domain' && ['waiting', 'needs_admin'].includes(row.state)
    ? (await domainStep(app.db, row.domain_id, row.step))?.detail ?? row.manual_instructions : row.manual_instructions;
  const current = steps.indexOf(step);
  const copiedTotal = copied.reduce((n, c) => n + Number(c.n), 0);
  return {
    mailbox: {
      id: row.id, address: row.address, state: row.state, step: row.step, tempAddress: row.temp_address,
      error: row.error_message, errorCode: row.error_code, waitingFor, lastSyncAt: row.last_sync_at, syncPasses: row.sync_passes,
    },
    project: { id: project.id, name: project.name },
    progress: progress(copiedTotal, copied.reduce((n, c) => n + Number(c.bytes ?? 0), 0), preflight?.totalMessages ?? null,
      events.find((e) => e.step === 'copy-mail')?.at ?? null, row.step === 'copy-mail' && !['done', 'failed', 'stopped', 'paused'].includes(row.state)),
    steps: steps.map((s, i) => ({ id: s.id, status: row.state === 'done' || i < current ? 'done' : i === current ? 'current' : 'todo' })),
    events: events.map((e) => ({ at: e.at, step: e.step, outcome: e.outcome, message: e.message, actor: e.actor })).reverse(),
    folders: plan.map((entry) => {
      const c = copied.find((r) => r.source_folder === entry.source);
      const mine = skipped.filter((r) => r.source_folder === entry.source);
      return {
        source: entry.source, dest: entry.dest, excluded: entry.excluded,
        copied: Number(c?.n ?? 0), copiedBytes: Number(c?.bytes ?? 0),
        skipped: mine.filter((r) => r.kind !== 'refused').reduce((n, r) => n + Number(r.n), 0),
        failed: mine.filter((r) => r.kind === 'refused').reduce((n, r) => n + Number(r.n), 0),
      };
    }),
    skips: skips.map((s) => ({ ...s, uid: Number(s.uid), size: Number(s.size) })),
    skipsTotal: skipped.reduce((n, r) => n + Number(r.n), 0),
  };
}
