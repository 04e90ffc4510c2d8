import type { Db } from '../db/knex.ts';
import type { MailboxRow } from '../db/repos/mailboxes.ts';
import { projectById, projectOptions } from '../db/repos/projects.ts';
import { planFolders, type FolderPlanEntry, type NamespaceInfo } from '../mail/folders.ts';
import { applyPlanOverride, LEVEL_SEPARATOR, type PlanOverride } from '../workflow/plan-override.ts';
import { copyMail } from '../workflow/steps/copy-mail.ts';
import { steps } from '../workflow/steps/index.ts';
import type { PreflightReport } from '../workflow/steps/preflight.ts';

/** Why the folder plan cannot be edited: before preflight the folders are unknown; once a copy pass started, the plan is fixed. */
export type PlanLock = 'noPreflight' | 'copyBegun' | 'pastCopy';

export interface PlannedFolder {
  source: string;
  /** The destination: the real path once the plan is fixed, before that the name the admin sees and edits (levels joined with `/`). */
  dest: string;
  /** What the engine would name it without the admin (provisional until the plan is fixed). */
  automaticDest: string;
  excluded: boolean;
  specialUse: string | null;
  /** Set by the admin, not computed. */
  edited: boolean;
  /** Counted by preflight; null for a folder preflight did not see. */
  messages: number | null;
  bytes: number | null;
}

export interface FolderPlanView {
  /** Made by the engine at the first copy pass, admin changes included; before that, a provisional plan from preflight. */
  fixed: boolean;
  editable: boolean;
  lock: PlanLock | null;
  folders: PlannedFolder[];
}

/**
 * Names as the pages show them before the destination has been looked at: no namespace prefix,
 * `/` between levels. The engine translates them to the destination's own prefix and delimiter,
 * and sends special-use folders to the destination's folder of that use.
 */
export const DISPLAY_NAMESPACE: NamespaceInfo = { prefix: '', delimiter: LEVEL_SEPARATOR };

export function parsePreflight(row: Pick<MailboxRow, 'preflight'>): PreflightReport | null {
  return row.preflight ? JSON.parse(row.preflight) as PreflightReport : null;
}

export function parseOverride(row: { folder_plan_override?: string | null }): PlanOverride {
  return row.folder_plan_override ? JSON.parse(row.folder_plan_override) as PlanOverride : {};
}

/**
 * The plan's lock, from the row alone (the edit service checks it again while holding the
 * mailbox). Editable from preflight until the first copy pass starts: that pass fixes the plan
 * (writes folder_plan) before it touches the destination.
 */
export async function planLock(db: Db, row: MailboxRow): Promise<PlanLock | null> {
  if (row.folder_plan || Number(row.sync_passes) > 0) return 'copyBegun';
  if (steps.findIndex((s) => s.id === row.step) > steps.indexOf(copyMail)) return 'pastCopy';
  if (!row.preflight) return 'noPreflight';
  const copied = await db('ledger').where({ mailbox_id: row.id }).first('uid');
  const skipped = copied ? undefined : await db('skips').where({ mailbox_id: row.id }).first('uid');
  return copied || skipped ? 'copyBegun' : null;
}

/** The engine's own plan for the folders preflight saw, against a destination named the display way. */
export function provisionalPlan(preflight: PreflightReport, excludeFolders: string[]): FolderPlanEntry[] {
  const namespace = preflight.namespace ?? { prefix: '', delimiter: preflight.folders.find((f) => f.delimiter)?.delimiter ?? LEVEL_SEPARATOR };
  const folders = preflight.folders.map((f) => ({ path: f.path, delimiter: f.delimiter ?? namespace.delimiter, specialUse: f.specialUse, subscribed: true, selectable: true }));
  const known = new Set(folders.map((f) => f.path.normalize('NFC')));
  return planFolders({ namespace, folders }, { namespace: DISPLAY_NAMESPACE, folders: [] }, { exclude: excludeFolders.filter((e) => known.has(e.normalize('NFC'))) });
}

export async function folderPlanView(db: Db, row: MailboxRow & { folder_plan_override?: string | null }): Promise<FolderPlanView> {
  const preflight = parsePreflight(row);
  const counted = new Map((preflight?.folders ?? []).map((f) => [f.path, f]));
  const lock = await planLock(db, row);
  const counts = (source: string) => ({ messages: counted.get(source)?.messages ?? null, bytes: counted.get(source)?.bytes ?? null });
  if (row.folder_plan) {
    const plan = JSON.parse(row.folder_plan) as FolderPlanEntry[];
    const override = parseOverride(row);
    return {
      fixed: true, editable: false, lock,
      folders: plan.map((e) => ({
        source: e.source, dest: e.dest, automaticDest: e.dest, excluded: e.excluded, specialUse: e.specialUse ?? null,
        edited: override[e.source] !== undefined, ...counts(e.source),
      })),
    };
  }
  if (!preflight) return { fixed: false, editable: false, lock, folders: [] };
  const options = projectOptions(await projectById(db, row.project_id));
  const automatic = provisionalPlan(preflight, options.excludeFolders);
  const override = parseOverride(row);
  const effective = applyPlanOverride(automatic, override, DISPLAY_NAMESPACE);
  return {
    fixed: false, editable: lock === null, lock,
    folders: effective.map((e, i) => ({
      source: e.source, dest: e.dest, automaticDest: automatic[i]!.dest, excluded: e.excluded, specialUse: e.specialUse ?? null,
      edited: override[e.source] !== undefined, ...counts(e.source),
    })),
  };
}
