import type { CheckResult, CheckStatus } from './types.ts';

/** Same symbols as the CLI uses elsewhere: they survive terminals without colour. */
const SYMBOLS: Record<CheckStatus, string> = { ok: '✔', error: '✖', warn: '!', unknown: '?' };

/** One human line: `✖ MX  found: …  expected: …  fix: …`. */
export function formatCheck(check: CheckResult): string {
  const found = check.status === 'unknown' && check.found.length === 0 ? '(no answer)' : listText(check.found);
  const parts = [`${SYMBOLS[check.status]} ${check.title}`, `found: ${found}`, `expected: ${listText(check.expected)}`];
  if (check.fix !== undefined) parts.push(`fix: ${check.fix}`);
  return parts.join('  ');
}

function listText(items: string[]): string {
  return items.length > 0 ? items.join(', ') : '(none)';
}
