import type { FolderPlanEntry } from '../../mail/folders.ts';
import type { PlanOverride } from '../../workflow/plan-override.ts';

/** A byte count for the pages: the number and its unit, so each language writes the unit its way (MB, Mo). */
export interface Size { value: string; unit: 'B' | 'KB' | 'MB' | 'GB' | 'TB' }

/**
 * One mailbox's progress as the pages and the JSON endpoints show it: messages and bytes copied
 * out of what preflight counted in the folders the plan copies; the percentage and the ETA go by
 * bytes when preflight measured them (a 20 MB attachment weighs more than a one-line reply).
 */
export interface Progress {
  copied: number;
  copiedBytes: number;
  total: number | null;
  totalBytes: number | null;
  percent: number | null;
  etaMinutes: number | null;
  copiedSize: Size;
  totalSize: Size | null;
}

export interface ProgressInput {
  copied: number;
  copiedBytes: number;
  total: number | null;
  totalBytes: number | null;
  /** When the first copy pass started. */
  copyStartedAt: string | null;
  /** The copy is under way (the ETA is shown only then). */
  copying: boolean;
}

const UNITS: Size['unit'][] = ['B', 'KB', 'MB', 'GB', 'TB'];

export function size(bytes: number): Size {
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) { value /= 1000; unit++; }
  return { value: unit === 0 ? String(value) : value.toFixed(1), unit: UNITS[unit]! };
}

export function progress(input: ProgressInput, now = Date.now()): Progress {
  const { copied, copiedBytes, copyStartedAt, copying } = input;
  // Mail that arrived after preflight counted makes the total grow, never the copy go past it.
  const total = input.total === null ? null : Math.max(input.total, copied);
  const totalBytes = input.totalBytes === null ? null : Math.max(input.totalBytes, copiedBytes);
  const byBytes = totalBytes !== null && totalBytes > 0;
  const [done, all] = byBytes ? [copiedBytes, totalBytes] : [copied, total];
  const percent = all ? Math.min(100, Math.floor((done / all) * 100)) : all === 0 ? 100 : null;
  let etaMinutes: number | null = null;
  if (copying && all && copyStartedAt && done > 0 && done < all) {
    const elapsed = now - Date.parse(copyStartedAt);
    if (elapsed > 0) etaMinutes = Math.max(1, Math.ceil(((elapsed / done) * (all - done)) / 60_000));
  }
  return { copied, copiedBytes, total, totalBytes, percent, etaMinutes, copiedSize: size(copiedBytes), totalSize: totalBytes === null ? null : size(totalBytes) };
}

interface CountedFolders { totalMessages?: number; totalBytes?: number; folders?: Array<{ path: string; messages: number; bytes: number }> }

/**
 * What the copy will move according to preflight: its counts, less the folders the plan leaves
 * out (the fixed plan once the copy began; before, the project's excludes and the admin's changes).
 */
export function plannedTotals(preflight: CountedFolders | null, excluded: Set<string>): { messages: number | null; bytes: number | null } {
  if (!preflight) return { messages: null, bytes: null };
  if (!preflight.folders) return { messages: preflight.totalMessages ?? null, bytes: preflight.totalBytes ?? null };
  const kept = preflight.folders.filter((f) => !excluded.has(f.path.normalize('NFC')));
  return { messages: kept.reduce((n, f) => n + f.messages, 0), bytes: kept.reduce((n, f) => n + f.bytes, 0) };
}

/** Source folders (in NFC) the copy leaves out. */
export function excludedFolders(plan: FolderPlanEntry[] | null, override: PlanOverride, projectExcludes: string[]): Set<string> {
  if (plan) return new Set(plan.filter((e) => e.excluded).map((e) => e.source.normalize('NFC')));
  const excluded = new Set(projectExcludes.map((e) => e.normalize('NFC')));
  for (const [source, o] of Object.entries(override)) {
    if (o.excluded === true) excluded.add(source.normalize('NFC'));
    if (o.excluded === false) excluded.delete(source.normalize('NFC'));
  }
  return excluded;
}

export function isCopying(row: { step: string; state: string }, copyStep: string): boolean {
  return row.step === copyStep && !['done', 'failed', 'stopped', 'paused'].includes(row.state);
}
