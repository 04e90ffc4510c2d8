/** ok = green, warn = amber, error = red, unknown = grey ("could not test", e.g. every server timed out). */
export type CheckStatus = 'ok' | 'warn' | 'error' | 'unknown';

export interface CheckResult {
  /** Stable key for the UI and the API, e.g. 'mx', 'spf'. */
  id: string;
  title: string;
  status: CheckStatus;
  found: string[];
  expected: string[];
  /** What the admin has to publish or remove; absent when nothing needs doing or nothing is known. */
  fix?: string;
}

/**
 * A report cannot be called fine, or merely fine-with-warnings, while part of it could not be
 * tested, so unknown outranks warn and ok; a confirmed error still outranks unknown.
 */
const SEVERITY: Record<CheckStatus, number> = { ok: 0, warn: 1, unknown: 2, error: 3 };

export function worstStatus(statuses: CheckStatus[]): CheckStatus {
  return statuses.reduce<CheckStatus>((worst, status) => (SEVERITY[status] > SEVERITY[worst] ? status : worst), 'ok');
}
