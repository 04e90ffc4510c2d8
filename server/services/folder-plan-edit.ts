import type { AppContext } from '../context.ts';
import { recordEvent } from '../db/repos/events.ts';
import { projectById, projectOptions } from '../db/repos/projects.ts';
import { CutoverError } from '../errors.ts';
import { applyPlanOverride, carried, intendedPlan, LEVEL_SEPARATOR, nameProblem, type NameProblem, type PlanOverride } from '../workflow/plan-override.ts';
import { DISPLAY_NAMESPACE, folderPlanView, parseOverride, parsePreflight, planLock, provisionalPlan, type FolderPlanView, type PlanLock } from './folder-plan-view.ts';
import { withMailboxHeld } from './mailbox-hold.ts';

/** One folder as the admin wants it: `dest` null (or absent) leaves the name to the engine. */
export interface FolderChoice { source: string; excluded: boolean; dest?: string | null }

export type FieldProblem = NameProblem | 'collision' | 'unknownFolder' | 'duplicate';
export interface FieldError { source: string; field: 'dest' | 'source'; problem: FieldProblem; /** For a collision: the other source folder. */ with?: string }

/** A plan edit refused with one error per field, so the form can show each next to its input. */
export class FolderPlanInvalid extends CutoverError {
  constructor(address: string, readonly fields: FieldError[]) {
    super('FOLDER_PLAN_INVALID', { address, detail: fields.map((f) => `${f.source}: ${f.problem}${f.with ? ` (${f.with})` : ''}`).join('; ') });
  }

  override get details() {
    return { fields: this.fields };
  }
}

export class FolderPlanLocked extends CutoverError {
  constructor(address: string, readonly lock: PlanLock) {
    super('FOLDER_PLAN_LOCKED', { address, reason: LOCK_WORDS[lock], lock });
  }

  override get details() {
    return { lock: this.lock };
  }
}

const LOCK_WORDS: Record<PlanLock, string> = {
  noPreflight: 'its folders are known once preflight has run',
  copyBegun: 'the copy has begun, and every pass must use the plan the first one used',
  pastCopy: 'the mailbox is past the copy',
};

// Levels trimmed and the name in NFC: what is stored, compared and shown.
function normalisedName(dest: string): string {
  return dest.normalize('NFC').split(LEVEL_SEPARATOR).map((l) => l.trim()).join(LEVEL_SEPARATOR);
}

/**
 * Saves an admin's folder plan: which source folders are copied and under which names. Allowed
 * from preflight (when the folders are known) until the first copy pass fixes the plan, and never
 * while a worker holds the mailbox. `choices` is the whole plan: a folder left out goes back to the
 * engine's choice. Recorded as an event of the mailbox.
 */
export async function saveFolderPlan(app: AppContext, mailboxId: number, choices: FolderChoice[], actor: string): Promise<FolderPlanView> {
  return withMailboxHeld(app, mailboxId, async (row) => {
    const lock = await planLock(app.db, row);
    if (lock) throw new FolderPlanLocked(row.address, lock);
    const options = projectOptions(await projectById(app.db, row.project_id));
    const automatic = provisionalPlan(parsePreflight(row)!, options.excludeFolders);
    // The column comes with migration 007; the row type predates it.
    const before = (row as { folder_plan_override?: string | null }).folder_plan_override ?? null;
    const { override, errors } = validatedOverride(automatic, parseOverride({ folder_plan_override: before }), choices);
    if (errors.length) throw new FolderPlanInvalid(row.address, errors);
    const stored = Object.keys(override).length ? JSON.stringify(override) : null;
    if (stored !== before) {
      await app.db('mailboxes').where({ id: row.id }).update({ folder_plan_override: stored, updated_at: new Date().toISOString() });
      await recordEvent(app.db, {
        projectId: row.project_id, mailboxId: row.id, domainId: row.domain_id, step: row.step, outcome: 'plan-edited', actor,
        message: `folder plan edited by ${actor}: ${describe(override, automatic.map((e) => e.source))}`,
      });
    }
    return folderPlanView(app.db, { ...row, folder_plan_override: stored });
  });
}

/**
 * The admin's choices as an override of the engine's plan. A name field is a change only when it
 * differs from what the plan showed (the name the folder has now): an untouched subfolder keeps
 * following its parent, and a name set earlier stays set. A name typed back to what the engine
 * would give is the engine's again (so a special-use folder can find the destination's own).
 */
function validatedOverride(automatic: ReturnType<typeof provisionalPlan>, stored: PlanOverride, choices: FolderChoice[]): { override: PlanOverride; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const shown = new Map(applyPlanOverride(automatic, stored, DISPLAY_NAMESPACE).map((e) => [e.source, e.dest]));
  const override: PlanOverride = {};
  const known = new Set(automatic.map((e) => e.source));
  const chosen = new Map<string, FolderChoice>();
  for (const choice of choices) {
    if (!known.has(choice.source)) errors.push({ source: choice.source, field: 'source', problem: 'unknownFolder' });
    else if (chosen.has(choice.source)) errors.push({ source: choice.source, field: 'source', problem: 'duplicate' });
    else chosen.set(choice.source, choice);
  }
  // Parents come before their subfolders in the plan, so a subfolder is compared with where its renamed parent takes it.
  const renamed = new Map<string, string>();
  for (const entry of automatic) {
    const choice = chosen.get(entry.source);
    if (!choice) continue;
    const change: PlanOverride[string] = {};
    if (choice.excluded !== entry.excluded) change.excluded = choice.excluded;
    // An excluded folder's cleared name field says nothing: the folder is not copied anyway.
    const blankForExcluded = choice.excluded && (choice.dest ?? '').trim() === '';
    if (choice.dest !== undefined && choice.dest !== null && !blankForExcluded) {
      const problem = nameProblem(choice.source, choice.dest);
      if (problem) { errors.push({ source: choice.source, field: 'dest', problem }); continue; }
      const name = normalisedName(choice.dest);
      const dest = name === shown.get(entry.source) ? stored[entry.source]?.dest : name === carried(entry.dest, renamed, LEVEL_SEPARATOR) ? undefined : name;
      if (dest !== undefined && entry.source.toUpperCase() !== 'INBOX') {
        change.dest = dest;
        renamed.set(entry.dest, dest);
      }
    }
    if (Object.keys(change).length) override[choice.source] = change;
  }
  // Two included folders may not end up in one destination folder (names compared case-insensitively: some servers are).
  const intended = intendedPlan(automatic, override, DISPLAY_NAMESPACE).filter((e) => !e.excluded);
  const byName = new Map<string, string[]>();
  for (const e of intended) byName.set(e.dest.toLowerCase(), [...(byName.get(e.dest.toLowerCase()) ?? []), e.source]);
  for (const sources of byName.values()) {
    if (sources.length < 2) continue;
    for (const source of sources) {
      if (override[source]?.dest === undefined && !sources.some((s) => s !== source && override[s]?.dest === undefined)) continue;
      errors.push({ source, field: 'dest', problem: 'collision', with: sources.find((s) => s !== source) });
    }
  }
  return { override, errors };
}

function describe(override: PlanOverride, order: string[]): string {
  const parts = order.filter((s) => override[s]).map((s) => {
    const o = override[s]!;
    if (o.excluded === true) return `${s} excluded`;
    const included = o.excluded === false ? ' included' : '';
    return o.dest !== undefined ? `${s}${included} → ${o.dest}` : `${s}${included}`;
  });
  return parts.length ? parts.join('; ') : 'back to the automatic plan';
}
