// RFC 7208 check_host() for the addresses the destination platform sends from, evaluated by
// mailauth 4.x (the SPF evaluator that runs on Node 20) over our own transport, so the answer is
// the one a receiver would compute from the same DNS data.
import { spf } from 'mailauth/lib/spf/index.js';
import { nodeStyleResolver, type Lookup } from '../resolver.ts';
import type { CheckResult, CheckStatus } from './types.ts';

export type SpfResult = 'pass' | 'fail' | 'softfail' | 'neutral' | 'none' | 'permerror' | 'temperror';

export interface CheckHostResult { ip: string; result: SpfResult; comment: string; lookups: number | null }

/** check_host(ip, domain, postmaster@domain): the MAIL FROM identity a bounce-free sender uses. */
export async function checkHost(ip: string, domain: string, resolver: Lookup, sender = `postmaster@${domain}`): Promise<CheckHostResult> {
  const outcome = await spf({ ip, sender, helo: domain, mta: 'cutover', resolver: nodeStyleResolver(resolver) as never });
  const raw = outcome.status.result;
  const result = (raw === 'temperr' ? 'temperror' : raw) as SpfResult;
  // mailauth prefixes its comments with the MTA name; the admin only needs the reason.
  const comment = (outcome.status.comment ?? '').replace(/^cutover: /, '');
  return { ip, result, comment, lookups: outcome.lookups?.count ?? null };
}

/** Every sending address must get "pass"; a temperror is grey (the DNS did not answer), anything else red. */
export function spfAuthCheck(domain: string, results: CheckHostResult[], mergedFix: string | undefined): CheckResult {
  const failing = results.filter((r) => r.result !== 'pass' && r.result !== 'temperror');
  const unknown = results.filter((r) => r.result === 'temperror');
  const status: CheckStatus = failing.length > 0 ? 'error' : unknown.length > 0 ? 'unknown' : 'ok';
  const check: CheckResult = {
    id: 'spf-auth', title: 'SPF check_host()', status,
    found: results.map((r) => `${r.ip}: ${r.result}`),
    expected: results.map((r) => `${r.ip}: pass`),
    details: results.map((r) => `check_host(${r.ip}, ${domain}) = ${r.result}${r.comment ? `: ${r.comment}` : ''}`),
    gate: 'no-error',
  };
  if (failing.length > 0) {
    check.fix = mergedFix ?? `authorise ${failing.map((r) => `${r.ip.includes(':') ? 'ip6' : 'ip4'}:${r.ip}`).join(' ')} in the SPF record of ${domain} (before its "all"), or include the platform's SPF domain`;
  }
  return check;
}
