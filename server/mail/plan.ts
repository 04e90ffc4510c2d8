import type { ImapFlow } from 'imapflow';
import { CutoverError } from '../errors.ts';
import { planFolders, type FolderPlanEntry, type FolderSide } from './folders.ts';
import { folderSide, sideOf } from './inventory.ts';
import type { AccountListing } from './wire/list-reader.ts';
import { folderRulesFor } from './providers/index.ts';

/**
 * Lists both sides and maps the folders; an excluded folder the source does not have is an error,
 * not a silent no-op. `provider` (the source's, e.g. 'google') applies that provider's folder rules.
 */
export async function buildFolderPlan(source: ImapFlow, dest: ImapFlow, exclude: string[], sourceHost: string, provider?: string): Promise<FolderPlanEntry[]> {
  return planSides(await folderSide(source), await folderSide(dest), exclude, sourceHost, provider);
}

/** The same from listings already made (the copy lists each side once, for its plan and its order). */
export async function planFromListings(listed: { source: AccountListing; dest: AccountListing }, exclude: string[], sourceHost: string, provider?: string): Promise<FolderPlanEntry[]> {
  return planSides(sideOf(listed.source), sideOf(listed.dest), exclude, sourceHost, provider);
}

function planSides(sourceSide: FolderSide, destSide: FolderSide, exclude: string[], sourceHost: string, provider?: string): FolderPlanEntry[] {
  const unknown = exclude.filter((name) => !sourceSide.folders.some((f) => f.path === name.normalize('NFC')));
  if (unknown.length) {
    const names = sourceSide.folders.map((f) => f.path).join(', ');
    throw new CutoverError('FOLDER_UNKNOWN', { folder: unknown.map((u) => `"${u}"`).join(', '), host: sourceHost, hint: ` (it has: ${names})` });
  }
  return planFolders(sourceSide, destSide, { exclude, rules: folderRulesFor(provider) });
}
