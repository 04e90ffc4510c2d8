/** One mailbox's progress as the pages and the JSON endpoint show it: messages copied, percent, ETA. */
export interface Progress { copied: number; copiedBytes: number; total: number | null; percent: number | null; etaMinutes: number | null }

export function progress(copied: number, copiedBytes: number, total: number | null, copyStartedAt: string | null, copying: boolean, now = Date.now()): Progress {
  const percent = total ? Math.min(100, Math.floor((copied / total) * 100)) : total === 0 ? 100 : null;
  let etaMinutes: number | null = null;
  if (copying && total && copyStartedAt && copied > 0 && copied < total) {
    const elapsed = now - Date.parse(copyStartedAt);
    if (elapsed > 0) etaMinutes = Math.max(1, Math.ceil((elapsed / copied) * (total - copied) / 60_000));
  }
  return { copied, copiedBytes, total, percent, etaMinutes };
}
