import { fqdn, normalizeName } from '../names.ts';
import { DEFAULT_TTL, describeChange, zoneLine } from '../zonefile.ts';
import type { CheckResult, CheckStatus } from './types.ts';

export interface MxRecord { priority: number; exchange: string }

/**
 * Compares the published MX set with the one the destination platform needs.
 * @param found null when the query failed, [] when the domain has no MX records.
 * @param old the source platform's MX set: its hosts still published are flagged as leftovers.
 */
export function checkMx(domain: string, found: MxRecord[] | null, expected: MxRecord[], old: MxRecord[] = []): CheckResult {
  const want = canonicalSet(expected);
  const base = { id: 'mx', title: 'MX', expected: want.map(mxText), gate: 'ok' as const };
  if (found === null) return { ...base, status: 'unknown', found: [] };
  const have = canonicalSet(found);
  const status = compare(have, want);
  const wantHosts = new Set(want.map((record) => record.exchange));
  const oldHosts = new Set(old.map((record) => normalizeName(record.exchange)).filter((host) => !wantHosts.has(host)));
  const leftovers = have.filter((record) => oldHosts.has(record.exchange));
  const result: CheckResult = { ...base, status, found: have.map((record) => (oldHosts.has(record.exchange) ? `${mxText(record)} (old platform)` : mxText(record))) };
  if (status !== 'ok') result.fix = fixText(domain, have, want);
  if (leftovers.length > 0) result.details = leftovers.map((record) => `${mxText(record)} is the old platform's: remove it, or mail keeps landing there`);
  if (have.some((record) => record.exchange === '.')) {
    result.details = [...(result.details ?? []), 'a null MX ("0 .", RFC 7505) says the domain accepts no mail at all'];
  }
  return result;
}

/** Sorted and de-duplicated so that the order of answers and the spelling of names do not matter. */
function canonicalSet(records: MxRecord[]): MxRecord[] {
  const unique = new Map<string, MxRecord>();
  for (const record of records) {
    const canonical = { priority: record.priority, exchange: normalizeName(record.exchange) };
    unique.set(mxText(canonical), canonical);
  }
  return [...unique.values()].sort((a, b) => a.priority - b.priority || a.exchange.localeCompare(b.exchange));
}

/**
 * A missing destination host loses mail, hence error; leftover hosts or other priorities still
 * deliver to the right place (mostly), hence only a warning.
 */
function compare(have: MxRecord[], want: MxRecord[]): CheckStatus {
  const haveKeys = new Set(have.map(mxText));
  if (have.length === want.length && want.every((record) => haveKeys.has(mxText(record)))) return 'ok';
  const haveHosts = new Set(have.map((record) => record.exchange));
  return want.every((record) => haveHosts.has(record.exchange)) ? 'warn' : 'error';
}

function fixText(domain: string, have: MxRecord[], want: MxRecord[]): string {
  const wantKeys = new Set(want.map(mxText));
  const publish = want.map((record) => mxLine(domain, record, DEFAULT_TTL));
  const remove = have.filter((record) => !wantKeys.has(mxText(record))).map((record) => mxLine(domain, record));
  return describeChange(publish, remove);
}

function mxLine(domain: string, record: MxRecord, ttl?: number): string {
  return zoneLine({ owner: domain, ttl, type: 'MX', rdata: `${record.priority} ${fqdn(record.exchange)}` });
}

function mxText(record: MxRecord): string {
  return `${record.priority} ${record.exchange}`;
}
