import { groupwareLines, type GroupwareLine } from '../../services/groupware-view.ts';
import type { AppContext } from '../../context.ts';
import type { Db } from '../../db/knex.ts';
import { projectById } from '../../db/repos/projects.ts';
import { platformById } from '../../db/repos/platforms.ts';
import { keptMailboxTally, withKeptFolders } from '../../daily/kept-tallies.ts';
import { addTally, folderTallies, mailboxTallies, skipList, zeroTally, type SkipLine, type Tally } from '../../db/repos/tallies.ts';
import { CutoverError } from '../../errors.ts';

export type { SkipLine, Tally } from '../../db/repos/tallies.ts';
import type { FolderPlanEntry } from '../../mail/folders.ts';
import type { FolderReconciliation, VerifyResult } from '../../workflow/steps/verify.ts';

/**
 * What moved and what did not, for a project and for one mailbox: the pages, the downloads and
 * the API all use these. Unlike services/report.ts (the CLI's status, which hands out a generated
 * password once), no password ever gets in here: the mailbox columns are named one by one and
 * none of them is a sealed secret.
 */

export interface VerifySummary { clean: boolean; unaccounted: number }

export interface MailboxReportLine extends Tally {
  id: number;
  /** The new account on the destination platform, under the original address. */
  newAccount: string;
  /** The old account's temporary address on the source platform, once renamed. */
  oldAccount: string | null;
  state: string;
  step: string;
  verify: VerifySummary | null;
  error: { code: string; message: string } | null;
  lastSyncAt: string | null;
}

export interface ProjectReportModel {
  project: { id: number; name: string; source: string; destination: string };
  generatedAt: string;
  counts: Record<string, number>;
  totals: Tally & { mailboxes: number };
  mailboxes: MailboxReportLine[];
}

export interface FolderReportLine extends Tally {
  source: string;
  dest: string | null;
  excluded: boolean;
  /** From the verify step: messages in the source folder, and those neither copied nor skipped or missing on the destination. */
  sourceMessages: number | null;
  unaccounted: number | null;
}

export interface MailboxReportModel {
  project: { id: number; name: string };
  generatedAt: string;
  mailbox: MailboxReportLine;
  folders: FolderReportLine[];
  skips: SkipLine[];
  skipsTotal: number;
  /** Contacts, calendars, tasks and filters: per collection, what moved, what was skipped and why. */
  groupware: GroupwareLine[];
}

const MAILBOX_COLUMNS = ['id', 'project_id', 'address', 'temp_address', 'state', 'step', 'error_code', 'error_message', 'verify_result', 'last_sync_at', 'folder_plan', 'purged_tally'] as const;
type MailboxColumns = { id: number; project_id: number; address: string; temp_address: string | null; state: string; step: string; error_code: string | null; error_message: string | null; verify_result: string | null; last_sync_at: string | null; folder_plan: string | null; purged_tally: string | null };

function parseVerify(text: string | null): VerifyResult | null {
  if (!text) return null;
  try { return JSON.parse(text) as VerifyResult; } catch { return null; }
}

/** Not copied, missing on the destination, or counted by the source without a name (or refused from a file). */
const unaccountedIn = (f: FolderReconciliation): number => f.notCopied.length + f.missingOnDest.length + (f.unnamed ?? 0);

function verifySummary(result: VerifyResult | null): VerifySummary | null {
  if (!result) return null;
  return { clean: result.clean, unaccounted: result.folders.reduce((n, f) => n + unaccountedIn(f), 0) };
}

function line(row: MailboxColumns, tally: Tally): MailboxReportLine {
  return {
    id: row.id, newAccount: row.address, oldAccount: row.temp_address, state: row.state, step: row.step, ...tally,
    verify: verifySummary(parseVerify(row.verify_result)),
    error: row.error_code ? { code: row.error_code, message: row.error_message ?? '' } : null,
    lastSyncAt: row.last_sync_at,
  };
}

async function platforms(db: Db, sourceId: number, destId: number): Promise<{ source: string; destination: string }> {
  const [source, destination] = await Promise.all([platformById(db, sourceId), platformById(db, destId)]);
  return { source: source.name, destination: destination.name };
}

/** Every mailbox of a project, tallied in two GROUP BY queries over the project's ledger and skip list. */
export async function projectReportModel(app: AppContext, projectId: number): Promise<ProjectReportModel> {
  const project = await projectById(app.db, projectId);
  const rows: MailboxColumns[] = await app.db('mailboxes').where({ project_id: project.id }).select(MAILBOX_COLUMNS).orderBy('address');
  const tallies = await mailboxTallies(app.db, app.db('mailboxes').where({ project_id: project.id }).select('id'));
  const totals = { mailboxes: rows.length, ...zeroTally() };
  const counts: Record<string, number> = {};
  const mailboxes = rows.map((row) => {
    counts[row.state] = (counts[row.state] ?? 0) + 1;
    const tally = tallies.get(row.id) ?? keptMailboxTally(row.purged_tally) ?? zeroTally();
    addTally(totals, tally);
    return line(row, tally);
  });
  return {
    project: { id: project.id, name: project.name, ...await platforms(app.db, project.source_platform_id, project.dest_platform_id) },
    generatedAt: new Date().toISOString(), counts, totals, mailboxes,
  };
}

/** One mailbox: per folder (the plan, plus any folder the ledger knows), the skip list with reasons, the verify result. */
export async function mailboxReportModel(app: AppContext, mailboxId: number, opts: { skipsLimit?: number } = {}): Promise<MailboxReportModel> {
  const row: MailboxColumns | undefined = await app.db('mailboxes').where({ id: mailboxId }).first(MAILBOX_COLUMNS);
  if (!row) throw new CutoverError('MAILBOX_UNKNOWN', { ref: `#${mailboxId}` });
  const project = await projectById(app.db, row.project_id);
  const tallies = withKeptFolders(await folderTallies(app.db, row.id), row.purged_tally);
  const skips = await skipList(app.db, row.id, opts.skipsLimit);

  const plan: FolderPlanEntry[] = row.folder_plan ? JSON.parse(row.folder_plan) : [];
  const verify = parseVerify(row.verify_result);
  const known = new Set(plan.map((e) => e.source));
  const extra = [...tallies.keys()].filter((f) => !known.has(f));
  const entries = [...plan.map((e) => ({ source: e.source, dest: e.dest as string | null, excluded: e.excluded })), ...extra.map((source) => ({ source, dest: null, excluded: false }))];
  const total = zeroTally();
  const folders = entries.map((entry): FolderReportLine => {
    const tally = { ...(tallies.get(entry.source) ?? zeroTally()) };
    addTally(total, tally);
    const checked = verify?.folders.find((f) => f.source === entry.source);
    return { ...entry, ...tally, sourceMessages: checked?.sourceMessages ?? null, unaccounted: checked ? unaccountedIn(checked) : null };
  });
  return {
    project: { id: project.id, name: project.name }, generatedAt: new Date().toISOString(),
    mailbox: line(row, total), folders, skips, skipsTotal: total.skippedMessages + total.refusedMessages,
    groupware: await groupwareLines(app.db, row.id),
  };
}
