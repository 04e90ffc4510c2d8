import type { MailboxReportModel, ProjectReportModel } from './report.ts';

type Cell = string | number | boolean | null | undefined;

// A spreadsheet runs a cell starting with one of these as a formula (OWASP "CSV injection"), also
// after leading white space (which spreadsheets trim) and in the full-width forms ＝＋－＠ (which
// some spreadsheets fold to ASCII).
const FORMULA_START = /^\s*[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/u;

const quoted = (text: string) => `"${text.replace(/"/g, '""')}"`;

/**
 * One CSV cell (RFC 4180): quoted when it holds a comma, a quote or a line break, quotes doubled.
 * Text that a spreadsheet would run as a formula gets a leading apostrophe and is always quoted,
 * as OWASP asks; numbers are written as they are (they are ours, never a formula).
 */
export function csvCell(value: Cell): string {
  if (value === null || value === undefined) return '';
  if (typeof value !== 'string') return String(value);
  if (FORMULA_START.test(value)) return quoted(`'${value}`);
  return /[",\r\n]/.test(value) ? quoted(value) : value;
}

/** A whole file: a UTF-8 byte order mark (so Excel reads accents right), CRLF line ends. */
export function toCsv(header: string[], rows: Cell[][]): string {
  return '\uFEFF' + [header, ...rows].map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

const verifyText = (v: { clean: boolean; unaccounted: number } | null) => (v === null ? '' : v.clean ? 'clean' : `${v.unaccounted} unaccounted`);

/** One line per mailbox. Column names are stable, English and snake_case, for scripts. */
export function projectReportCsv(model: ProjectReportModel): string {
  return toCsv(
    ['mailbox_id', 'new_account', 'old_account', 'state', 'step', 'copied_messages', 'copied_bytes', 'skipped_messages', 'skipped_bytes', 'refused_messages', 'verify', 'error_code', 'error', 'last_sync_at'],
    model.mailboxes.map((m) => [m.id, m.newAccount, m.oldAccount, m.state, m.step, m.copiedMessages, m.copiedBytes, m.skippedMessages, m.skippedBytes, m.refusedMessages, verifyText(m.verify), m.error?.code, m.error?.message, m.lastSyncAt]),
  );
}

/** One line per folder (record "folder"), then one per skipped message with the server's reason (record "skipped"). */
export function mailboxReportCsv(model: MailboxReportModel): string {
  const header = ['record', 'source_folder', 'dest_folder', 'copied_messages', 'copied_bytes', 'skipped_messages', 'skipped_bytes', 'refused_messages', 'source_messages', 'unaccounted', 'uid', 'size', 'kind', 'reason'];
  const folders: Cell[][] = model.folders.map((f) => ['folder', f.source, f.excluded ? '(excluded)' : f.dest, f.copiedMessages, f.copiedBytes, f.skippedMessages, f.skippedBytes, f.refusedMessages, f.sourceMessages, f.unaccounted, null, null, null, null]);
  const skips: Cell[][] = model.skips.map((s) => ['skipped', s.folder, null, null, null, null, null, null, null, null, s.uid, s.size, s.kind, s.reason]);
  return toCsv(header, [...folders, ...skips]);
}

/** A download name made of safe characters only: no quotes, slashes or control characters reach the header. */
export function reportFileName(subject: string, at: string, extension: 'csv' | 'json'): string {
  const safe = subject.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').replace(/[^\w.@-]+/g, '-').replace(/^[-.]+|[-.]+$/g, '').slice(0, 80) || 'report';
  return `cutover-report-${safe}-${at.slice(0, 10)}.${extension}`;
}
