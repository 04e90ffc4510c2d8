import { groupwareLines, type GroupwareLine } from './groupware-view.ts';
import type { AppContext } from '../context.ts';
import { projectMailboxes, updateMailbox, type MailboxRow } from '../db/repos/mailboxes.ts';
import type { ProjectRow } from '../db/repos/projects.ts';
import { platformById } from '../db/repos/platforms.ts';
import type { FolderPlanEntry } from '../mail/folders.ts';
import { domainStep } from '../db/repos/domains.ts';
import { folderTallies, zeroTally } from '../db/repos/tallies.ts';
import { withKeptFolders } from '../daily/kept-tallies.ts';
import { stepById } from '../workflow/steps/index.ts';
import type { PreflightReport } from '../workflow/steps/preflight.ts';

export interface FolderLine { source: string; dest: string; copied: number; copiedBytes: number; skipped: number; skippedBytes: number; failed: number }

export interface MailboxReport {
  id: number;
  address: string;
  state: string;
  step: string;
  tempAddress: string | null;
  error: { code: string; message: string } | null;
  waitingFor: string | null;
  attempts: number;
  totalMessages: number | null;
  copiedMessages: number;
  copiedBytes: number;
  syncPasses: number;
  lastSyncAt: string | null;
  folders: FolderLine[];
  /** Contacts, calendars, tasks and filter scripts, per collection. */
  groupware: GroupwareLine[];
  newPassword?: string;
}

export interface ProjectReport {
  project: { id: number; name: string; source: string; destination: string; state: string };
  counts: Record<string, number>;
  mailboxes: MailboxReport[];
}

async function folderLines(app: AppContext, row: MailboxRow): Promise<FolderLine[]> {
  const plan: FolderPlanEntry[] = row.folder_plan ? JSON.parse(row.folder_plan) : [];
  const tallies = withKeptFolders(await folderTallies(app.db, row.id), (row as { purged_tally?: string | null }).purged_tally);
  return plan.filter((e) => !e.excluded).map((entry) => {
    const t = tallies.get(entry.source) ?? zeroTally();
    return { source: entry.source, dest: entry.dest, copied: t.copiedMessages, copiedBytes: t.copiedBytes, skipped: t.skippedMessages, skippedBytes: t.skippedBytes, failed: t.refusedMessages };
  });
}

// A mailbox held by a domain step shows the domain's own words (found, expected, fix).
export async function waitingFor(app: AppContext, row: Pick<MailboxRow, 'step' | 'state' | 'domain_id' | 'manual_instructions'>): Promise<string | null> {
  if (stepById(row.step).level !== 'domain' || !['waiting', 'needs_admin'].includes(row.state)) return row.manual_instructions;
  return (await domainStep(app.db, row.domain_id, row.step))?.detail ?? row.manual_instructions;
}

/**
 * Status of a project, mailbox by mailbox. With `revealPasswords`, a generated destination
 * password is included once and then marked as reported, never to be shown again.
 */
export async function projectReport(app: AppContext, project: ProjectRow, options: { revealPasswords?: boolean } = {}): Promise<ProjectReport> {
  const rows = await projectMailboxes(app.db, project.id);
  const counts: Record<string, number> = {};
  const mailboxes: MailboxReport[] = [];
  for (const row of rows) {
    counts[row.state] = (counts[row.state] ?? 0) + 1;
    const folders = await folderLines(app, row);
    const preflight: PreflightReport | null = row.preflight ? JSON.parse(row.preflight) : null;
    const report: MailboxReport = {
      id: row.id, address: row.address, state: row.state, step: row.step, tempAddress: row.temp_address,
      error: row.error_code ? { code: row.error_code, message: row.error_message ?? '' } : null,
      waitingFor: await waitingFor(app, row), attempts: row.attempts,
      totalMessages: preflight?.totalMessages ?? null,
      copiedMessages: folders.reduce((n, f) => n + f.copied, 0), copiedBytes: folders.reduce((n, f) => n + f.copiedBytes, 0),
      syncPasses: row.sync_passes, lastSyncAt: row.last_sync_at, folders, groupware: await groupwareLines(app.db, row.id),
    };
    if (options.revealPasswords && row.dest_password_generated && !row.dest_password_reported && row.state === 'done' && row.dest_password_sealed) {
      report.newPassword = app.box.open(row.dest_password_sealed);
      await updateMailbox(app.db, row.id, { dest_password_reported: true });
    }
    mailboxes.push(report);
  }
  const source = await platformById(app.db, project.source_platform_id);
  const destination = await platformById(app.db, project.dest_platform_id);
  return { project: { id: project.id, name: project.name, source: source.name, destination: destination.name, state: project.state }, counts, mailboxes };
}
