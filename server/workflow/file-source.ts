// The workflow of a "file import" project, whose source platform is no server (mailFromFiles):
// the copy is the imports the admin runs on each mailbox's page, and the steps that would read
// the old server read what those imports reported instead.
import { formatBytes } from '../errors.ts';
import type { FileImportReport } from '../files/import.ts';
import { importsOf } from '../files/uploads.ts';
import type { FolderReconciliation, VerifyResult } from './steps/verify.ts';
import { done, waitUntil, type StepContext, type StepOutcome } from './types.ts';

/** How often a copy step waiting for files looks again; an import that ends wakes it at once (server/files/uploads.ts). */
const RECHECK_MS = 10 * 60_000;
const IN_FLIGHT = new Set(['uploading', 'checking', 'importing']);

export const fromFiles = (ctx: StepContext): boolean => ctx.source.capabilities.mailFromFiles === true;

/** Why a step that reads the old server has nothing to do in a file import. */
export const skippedForFiles = (what: string): StepOutcome => done(`skipped: the mail comes from uploaded files, ${what}`);

async function importedReports(ctx: StepContext) {
  const uploads = await importsOf(ctx.db, ctx.mailbox.id);
  const imported = uploads.filter((u): u is typeof u & { report: FileImportReport } => u.state === 'imported' && u.report !== null);
  return { uploads, imported };
}

/**
 * copy-mail of a file import: waits while a file is still uploading or being checked or imported,
 * and until one import has ended; then sums what the imports brought. Files uploaded and left
 * unimported are named, not waited for: the admin decided.
 */
export async function filesCopied(ctx: StepContext): Promise<StepOutcome> {
  const { uploads, imported } = await importedReports(ctx);
  const busy = uploads.filter((u) => IN_FLIGHT.has(u.state)).map((u) => u.name);
  if (busy.length) return waitUntil(ctx.now() + RECHECK_MS, `waiting for ${busy.join(', ')}: still uploading, being checked or importing on this mailbox's page`);
  if (!imported.length) {
    const failed = uploads.filter((u) => u.state === 'failed').map((u) => `${u.name}: ${u.error ?? 'failed'}`);
    return waitUntil(ctx.now() + RECHECK_MS, `waiting for files: upload the PST, mbox, EML (or a ZIP of them), ICS or VCF files of ${ctx.mailbox.address} on this mailbox's page, check them and import them; this step goes on as soon as an import ends${failed.length ? ` (failed so far: ${failed.join('; ')})` : ''}`);
  }
  const sum = (pick: (r: FileImportReport) => number) => imported.reduce((n, u) => n + pick(u.report), 0);
  const items = imported.flatMap((u) => u.report.collections).reduce((n, c) => n + c.copied + c.updated, 0);
  const left = uploads.filter((u) => u.state === 'uploaded' || u.state === 'checked' || u.state === 'failed').map((u) => u.name);
  return done(`${sum((r) => r.copied)} of ${sum((r) => r.messages)} messages (${formatBytes(sum((r) => r.bytes))}) imported from ${imported.length} file${imported.length === 1 ? '' : 's'}`
    + `, ${sum((r) => r.alreadyImported + r.matched)} already there, ${sum((r) => r.skipped)} skipped, ${sum((r) => r.failed)} failed; ${items} contacts, events and tasks`
    + (left.length ? `; not imported: ${left.join(', ')}` : ''));
}

/**
 * verify of a file import: each imported file's folders as the import counted them. A message
 * the destination refused is unaccounted for (it is in the file and not on the destination); one
 * the import skipped has its reason on the upload's report, like the skip list of a server copy.
 */
export async function filesVerified(ctx: StepContext): Promise<{ result: VerifyResult; outcome: StepOutcome }> {
  const { imported } = await importedReports(ctx);
  const folders: FolderReconciliation[] = imported.flatMap((u) => u.report.folders.map((f) => ({
    source: `${u.name}: ${f.source}`, dest: f.dest, sourceMessages: f.messages,
    ...(f.failed && { unnamed: f.failed }),
    copied: f.copied + f.alreadyImported + f.matched, copiedBytes: f.copiedBytes, skipped: f.skipped, skippedBytes: 0,
    notCopied: [], missingOnDest: [],
  })));
  const davFailed = imported.reduce((n, u) => n + u.report.davFailed, 0);
  const unaccounted = folders.reduce((n, f) => n + (f.unnamed ?? 0), 0) + davFailed;
  const copied = folders.reduce((n, f) => n + f.copied, 0);
  const skipped = folders.reduce((n, f) => n + f.skipped, 0);
  const result = { clean: unaccounted === 0, folders };
  return { result, outcome: done(result.clean ? `clean: ${copied} messages imported from files, ${skipped} skipped (reasons on the uploads' reports)` : `${unaccounted} items unaccounted for: refused by the destination (see the uploads' reports; importing the file again retries them)`) };
}
