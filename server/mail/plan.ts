import type { ImapFlow, ListResponse } from 'imapflow';
import { CutoverError } from '../errors.ts';
import { planFolders, type FolderPlanEntry } from './folders.ts';
import { folderSide } from './inventory.ts';
import { folderRulesFor } from './providers/index.ts';

export interface FolderListings { source?: ListResponse[]; dest?: ListResponse[] }

/**
 * Lists both sides and maps the folders; an excluded folder the source does not have is an error,
 * not a silent no-op. `provider` (the source's, e.g. 'google') applies that provider's folder rules.
 */
export async function buildFolderPlan(source: ImapFlow, dest: ImapFlow, exclude: string[], sourceHost: string, listed: FolderListings = {}, provider?: string): Promise<FolderPlanEntry[]> {
  const sourceSide = await folderSide(source, listed.source);
  const unknown = exclude.filter((name) => !sourceSide.folders.some((f) => f.path === name.normalize('NFC')));
  if (unknown.length) {
    const names = sourceSide.folders.map((f) => f.path).join(', ');
    throw new CutoverError('FOLDER_UNKNOWN', { folder: unknown.map((u) => `"${u}"`).join(', '), host: sourceHost, hint: ` (it has: ${names})` });
  }
  return planFolders(sourceSide, await folderSide(dest, listed.dest), { exclude, rules: folderRulesFor(provider) });
}
