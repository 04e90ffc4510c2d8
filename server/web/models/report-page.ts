import { formatBytes } from '../../errors.ts';
import type { MailboxReportLine, MailboxReportModel, ProjectReportModel, Tally, VerifySummary } from './report.ts';

/** The report models as the pages show them: sizes in words, the verify result as a key, the project's mailboxes a page at a time. */

type Shown<T> = T & { copiedSize: string; skippedSize: string };

function sized<T extends Tally>(t: T): Shown<T> {
  return { ...t, copiedSize: formatBytes(t.copiedBytes), skippedSize: formatBytes(t.skippedBytes) };
}

function verifyKey(v: VerifySummary | null): { key: string; n: number } {
  if (!v) return { key: 'report.verifyNone', n: 0 };
  return v.clean ? { key: 'report.verifyClean', n: 0 } : { key: 'report.verifyUnaccounted', n: v.unaccounted };
}

function mailboxLine(m: MailboxReportLine) {
  return { ...sized(m), verifyText: verifyKey(m.verify) };
}

export function projectReportPage(model: ProjectReportModel, page: number, pageSize: number) {
  const pages = Math.max(1, Math.ceil(model.mailboxes.length / pageSize));
  const current = Math.min(Math.max(1, page), pages);
  return {
    project: model.project, generatedAt: model.generatedAt,
    counts: Object.entries(model.counts).map(([state, n]) => ({ state, n })),
    totals: sized(model.totals),
    mailboxes: model.mailboxes.slice((current - 1) * pageSize, current * pageSize).map(mailboxLine),
    page: current, pages,
  };
}

export function mailboxReportPage(model: MailboxReportModel) {
  return {
    project: model.project, generatedAt: model.generatedAt,
    mailbox: mailboxLine(model.mailbox),
    folders: model.folders.map(sized),
    skips: model.skips.map((s) => ({ ...s, sizeText: formatBytes(s.size) })),
    skipsTotal: model.skipsTotal,
    skipsTruncated: model.skipsTotal > model.skips.length,
    groupware: model.groupware,
  };
}
