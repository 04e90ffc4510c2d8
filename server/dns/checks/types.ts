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
  /** Supporting lines: per-server answers, lookup counts, check_host() results… */
  details?: string[];
  /**
   * Whether the cutover waits on this check: 'ok' = until it is green, 'no-error' = while it is
   * red (grey or amber do not hold it up); absent = informational.
   */
  gate?: 'ok' | 'no-error';
}

/** The checks that keep the dns-cutover step waiting. */
export function blockingChecks(checks: CheckResult[]): CheckResult[] {
  return checks.filter((check) => (check.gate === 'ok' && check.status !== 'ok') || (check.gate === 'no-error' && check.status === 'error'));
}

/**
 * A report cannot be called fine, or merely fine-with-warnings, while part of it could not be
 * tested, so unknown outranks warn and ok; a confirmed error still outranks unknown.
 */
const SEVERITY: Record<CheckStatus, number> = { ok: 0, warn: 1, unknown: 2, error: 3 };

export function worstStatus(statuses: CheckStatus[]): CheckStatus {
  return statuses.reduce<CheckStatus>((worst, status) => (SEVERITY[status] > SEVERITY[worst] ? status : worst), 'ok');
}
