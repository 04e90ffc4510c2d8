// What the file-import pages show of an upload: its state, how much arrived, and the dry run's or
// the import's report as rows (mail folders, then contacts/calendars/tasks), sizes in words.
import { formatBytes } from '../../errors.ts';
import type { FileImportReport } from '../../files/import.ts';
import { isRunning, type UploadView } from '../../files/uploads.ts';

const SHOWN_SKIPS = 50;

export function uploadRow(u: UploadView) {
  const percent = u.size > 0 ? Math.floor((u.offset / u.size) * 100) : 0;
  return {
    ...u, sizeText: formatBytes(u.size), receivedText: formatBytes(u.offset), percent,
    uploading: u.state === 'uploading', running: isRunning(u.id),
    canRun: u.state !== 'uploading' && !isRunning(u.id),
  };
}

export function reportModel(report: FileImportReport | null) {
  if (!report) return null;
  return {
    dryRun: report.dryRun,
    folders: report.folders.map((f) => ({
      source: f.source, dest: f.dest, specialUse: f.specialUse?.replace(/^\\/, ''), messages: f.messages, size: formatBytes(f.bytes),
      copied: f.copied, alreadyImported: f.alreadyImported + f.matched, skipped: f.skipped, failed: f.failed,
      skips: [...f.skips, ...f.failures].slice(0, SHOWN_SKIPS),
    })),
    collections: report.collections.map((c) => ({
      source: c.source, kind: c.kind, dest: c.dest, state: c.state, reason: c.reason, items: c.items, copied: c.copied + c.updated,
      alreadyImported: c.alreadyImported, skipped: c.skipped, skips: c.skips.slice(0, SHOWN_SKIPS), listed: c.listed.slice(0, 200),
    })),
    messages: report.messages,
    dav: report.collections.reduce((n, c) => n + c.items, 0),
    davCopied: report.collections.reduce((n, c) => n + c.copied + c.updated, 0),
    skipped: report.skipped + report.davSkipped,
    failed: report.failed + report.davFailed,
    copied: report.copied,
    already: report.alreadyImported + report.matched,
  };
}
