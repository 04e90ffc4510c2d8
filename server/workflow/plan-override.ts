import type { Db } from '../db/knex.ts';
import type { FolderPlanEntry, NamespaceInfo } from '../mail/folders.ts';

/**
 * An admin's changes to a mailbox's folder plan, by source folder: excluded or not, and a
 * destination name. Names are written with `/` between levels whatever the servers use; the
 * engine translates them to the destination's namespace prefix and delimiter, like the names it
 * makes itself. Kept apart from the computed plan, so the engine applies it on top of whatever it
 * computes when the copy starts.
 */
export interface FolderOverride { excluded?: boolean; dest?: string }
export type PlanOverride = Record<string, FolderOverride>;

/** The level separator of names typed by an admin, on the pages and in the API. */
export const LEVEL_SEPARATOR = '/';
export const MAX_NAME_CHARS = 200;

export type NameProblem = 'empty' | 'tooLong' | 'control' | 'wildcard' | 'emptyLevel' | 'dotLevel' | 'inboxReserved' | 'inboxStays';

/** Why a destination name cannot be used, or null: the rules every destination name follows. */
export function nameProblem(source: string, dest: string): NameProblem | null {
  const isInbox = (name: string) => name.toUpperCase() === 'INBOX';
  if (isInbox(source)) return isInbox(dest.trim()) ? null : 'inboxStays';
  if (dest.trim() === '') return 'empty';
  if ([...dest].length > MAX_NAME_CHARS) return 'tooLong';
  if (/[\u0000-\u001f\u007f-\u009f]/.test(dest)) return 'control';
  // LIST wildcards: servers refuse them in names, or the folder can never be listed alone.
  if (/[*%]/.test(dest)) return 'wildcard';
  const levels = dest.split(LEVEL_SEPARATOR);
  if (levels.some((l) => l.trim() === '')) return 'emptyLevel';
  if (levels.some((l) => l === '.' || l === '..' || l.startsWith('~'))) return 'dotLevel';
  if (isInbox(dest.trim())) return 'inboxReserved';
  return null;
}

/** An admin's name as a path of the destination: namespace prefix, delimiter, and `_` for a delimiter inside a level (as the engine does). */
export function destPath(name: string, ns: NamespaceInfo): string {
  const levels = name.normalize('NFC').split(LEVEL_SEPARATOR).map((l) => l.trim());
  if (levels.length === 1 && levels[0]!.toUpperCase() === 'INBOX') return 'INBOX';
  const delimiter = ns.delimiter || LEVEL_SEPARATOR;
  // "INBOX/Sub" under an "INBOX." prefix is the prefix itself: "INBOX.Sub", not "INBOX.INBOX.Sub".
  if (levels.length > 1 && levels[0]!.toUpperCase() === 'INBOX' && ns.prefix.toUpperCase() === `INBOX${delimiter}`) levels.shift();
  const escaped = levels.map((l) => (delimiter === LEVEL_SEPARATOR ? l : l.split(delimiter).join('_')));
  return ns.prefix + escaped.join(delimiter);
}

/** A destination path shown to an admin: without the namespace prefix, levels joined with `/`. */
export function displayName(path: string, ns: NamespaceInfo): string {
  if (path.toUpperCase() === 'INBOX') return 'INBOX';
  const rest = ns.prefix && path.startsWith(ns.prefix) ? path.slice(ns.prefix.length) : path;
  const delimiter = ns.delimiter || LEVEL_SEPARATOR;
  return delimiter === LEVEL_SEPARATOR ? rest : rest.split(delimiter).join(LEVEL_SEPARATOR);
}

function unclaimed(path: string, used: Set<string>): string {
  if (!used.has(path)) return path;
  let n = 2;
  while (used.has(`${path} (${n})`)) n++;
  return `${path} (${n})`;
}

/**
 * The computed plan with the admin's changes: an admin's name wins, subfolders of a renamed
 * folder follow it (unless named themselves), and a computed name that now collides with another
 * folder's gets a suffix, as the engine does, so that two source folders never share a destination.
 */
export function applyPlanOverride(plan: FolderPlanEntry[], override: PlanOverride, ns: NamespaceInfo): FolderPlanEntry[] {
  const result = intendedPlan(plan, override, ns);
  // Names the admin chose are claimed first (after INBOX); the engine's names give way.
  const chosen = (e: FolderPlanEntry) => override[e.source]?.dest !== undefined;
  const isInbox = (e: FolderPlanEntry) => e.source.toUpperCase() === 'INBOX';
  const used = new Set<string>();
  const claim = (entry: FolderPlanEntry) => {
    if (entry.excluded) return;
    if (!isInbox(entry)) entry.dest = unclaimed(entry.dest, used);
    used.add(entry.dest);
  };
  for (const entry of result) if (isInbox(entry)) claim(entry);
  for (const entry of result) if (!isInbox(entry) && chosen(entry)) claim(entry);
  for (const entry of result) if (!isInbox(entry) && !chosen(entry)) claim(entry);
  return result;
}

/** The plan as the admin asked for it, before collisions are settled: what the edit form checks. */
export function intendedPlan(plan: FolderPlanEntry[], override: PlanOverride, ns: NamespaceInfo): FolderPlanEntry[] {
  const delimiter = ns.delimiter || LEVEL_SEPARATOR;
  const renamed = new Map<string, string>();
  for (const entry of plan) {
    const name = override[entry.source]?.dest;
    if (name !== undefined && entry.source.toUpperCase() !== 'INBOX') renamed.set(entry.dest, destPath(name, ns));
  }
  return plan.map((entry) => ({ ...entry, dest: carried(entry.dest, renamed, delimiter), excluded: override[entry.source]?.excluded ?? entry.excluded }));
}

/** Where a computed path ends up once some folders are renamed (computed path → new path): its own new name, or under its closest renamed ancestor. */
export function carried(path: string, renamed: Map<string, string>, delimiter: string): string {
  const own = renamed.get(path);
  if (own !== undefined) return own;
  let best: [string, string] | undefined;
  for (const [from, to] of renamed) {
    if (path.startsWith(from + delimiter) && (!best || from.length > best[0].length)) best = [from, to];
  }
  return best ? best[1] + path.slice(best[0].length) : path;
}

export async function loadPlanOverride(db: Db, mailboxId: number): Promise<PlanOverride> {
  const row = await db('mailboxes').where({ id: mailboxId }).first('folder_plan_override');
  return row?.folder_plan_override ? JSON.parse(row.folder_plan_override) as PlanOverride : {};
}
