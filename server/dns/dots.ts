// The Domains page's row, the host panel's indicator and the API: a diagnosis folded into one dot
// per kind of check, the worst of that kind's checks. A kind with no check at all (no DKIM selector
// expected, no authoritative server to compare) is grey, "not checked".
import type { CheckResult, CheckStatus } from './checks/types.ts';
import { worstStatus } from './checks/types.ts';

export const DOT_KINDS = ['mx', 'spf', 'dkim', 'dmarc', 'clients', 'propagation'] as const;
export type DotKind = typeof DOT_KINDS[number];

export interface DnsDot { kind: DotKind; status: CheckStatus; checked: boolean }

function kindOf(checkId: string): DotKind {
  if (checkId === 'mx' || checkId === 'mx-hosts') return 'mx';
  if (checkId.startsWith('spf')) return 'spf';
  if (checkId.startsWith('dkim')) return 'dkim';
  if (checkId === 'dmarc') return 'dmarc';
  if (checkId === 'propagation' || checkId === 'resolvers') return 'propagation';
  return 'clients';
}

export function dnsDots(checks: Array<Pick<CheckResult, 'id' | 'status'>>): DnsDot[] {
  return DOT_KINDS.map((kind) => {
    const mine = checks.filter((c) => kindOf(c.id) === kind).map((c) => c.status);
    return { kind, status: mine.length > 0 ? worstStatus(mine) : 'unknown', checked: mine.length > 0 };
  });
}
