import { normalizeName } from '../names.ts';
import { DEFAULT_TTL, describeChange, quoteStrings, txtRdata, zoneLine } from '../zonefile.ts';
import { parseSpf } from './spf-syntax.ts';
import type { CheckResult } from './types.ts';

// The record itself: exactly one, valid, naming the destination's includes. The tree (lookup
// limits) is spf-limits.ts, the evaluation for the sending addresses spf-auth.ts.

/** RFC 7208 §4.5: the version tag must be followed by a space or end the record ("v=spf10" is not SPF). */
const SPF_RECORD = /^v=spf1(?:\s|$)/i;
const ALL_TERM = /^[+?~-]?all$/i;
const REDIRECT_TERM = /^redirect=/i;
const INCLUDE_TERM = /^([+?~-]?)include:(.+)$/i;
const MODIFIER_TERM = /^([a-z][a-z0-9._-]*)=/i;

/** One TXT RR: the joined value (what SPF evaluates) and its strings (what a removal must name). */
interface SpfRecord { text: string; strings: string[] }

/** The SPF records among a domain's TXT RRs (each given as its character-strings). */
export function spfRecords(txt: string[][]): SpfRecord[] {
  return txt.map((strings) => ({ text: strings.join(''), strings })).filter((record) => SPF_RECORD.test(record.text));
}

/**
 * @param txt every TXT RR at the domain as its list of character-strings; null when the query failed.
 * @param expectedIncludes domains the destination platform needs as `include:` terms.
 * @param oldIncludes the source platform's includes: flagged when they are still there.
 */
export function checkSpf(domain: string, txt: string[][] | null, expectedIncludes: string[], oldIncludes: string[] = []): CheckResult {
  const includes = uniqueDomains(expectedIncludes);
  const base = { id: 'spf', title: 'SPF', expected: includes.map((include) => `include:${include}`), gate: 'ok' as const };
  if (txt === null) return { ...base, status: 'unknown', found: [] };
  const records = spfRecords(txt);
  const found = records.map((record) => record.text);
  const only = records.length === 1 ? records[0]! : null;
  const details: string[] = [];
  if (records.length > 1) details.push(`${records.length} SPF records: receivers return permerror (RFC 7208 §4.5) until there is exactly one`);
  const terms = only ? termsOf(only.text) : [];
  const old = uniqueDomains(oldIncludes).filter((include) => !includes.includes(include));
  const leftovers = old.filter((include) => !missingIncludes(terms, [include]).length);
  details.push(...leftovers.map((include) => `include:${include} is the old platform's: remove it once the old platform no longer sends for ${normalizeName(domain)}`));
  if (only && missingIncludes(terms, includes).length === 0) {
    const syntax = parseSpf(only.text);
    if (syntax.errors.length > 0) {
      return { ...base, status: 'error', found, details: [...syntax.errors, ...details], fix: `correct the record (receivers reject all of it): ${syntax.errors.join('; ')}` };
    }
    return { ...base, status: 'ok', found, ...(details.length > 0 && { details }) };
  }
  return { ...base, status: 'error', found, fix: replacementFix(domain, records, includes), ...(details.length > 0 && { details }) };
}

/**
 * Whatever went wrong (no record, several records — a permerror per RFC 7208 §4.5 — or missing
 * includes), the cure is the same: exactly one record that keeps every existing sender.
 */
function replacementFix(domain: string, records: SpfRecord[], includes: string[]): string {
  const merged = mergeSpf(records.map((record) => record.text), includes);
  const publish = [zoneLine({ owner: domain, ttl: DEFAULT_TTL, type: 'TXT', rdata: txtRdata(merged) })];
  const remove = records.map((record) => zoneLine({ owner: domain, type: 'TXT', rdata: quoteStrings(record.strings) }));
  return describeChange(publish, remove);
}

/** The single SPF record to publish: the existing record(s) plus any missing `include:` terms. */
export function mergeSpf(records: string[], includes: string[]): string {
  return ['v=spf1', ...withIncludes(baseTerms(records), uniqueDomains(includes))].join(' ');
}

function baseTerms(records: string[]): string[] {
  const [first] = records;
  if (first === undefined) return ['~all'];
  return records.length === 1 ? termsOf(first) : combineRecords(records.map(termsOf));
}

function termsOf(record: string): string[] {
  return record.trim().split(/\s+/).slice(1);
}

/**
 * Several records must become one, but only one fallback can survive: the first `all`, or the
 * first `redirect=` when no record has an `all`. The other redirect targets are turned into
 * includes so their senders stay authorised.
 */
function combineRecords(termLists: string[][]): string[] {
  const terms = termLists.flat();
  const terminal = terms.find(isTerminalAll) ?? terms.find(isRedirect);
  const redirectsAsIncludes = terms
    .filter((term) => isRedirect(term) && term !== terminal)
    .map((term) => `include:${term.slice('redirect='.length)}`);
  const body = terms.filter((term) => !isTerminalAll(term) && !isRedirect(term));
  return [...dedupeTerms([...body, ...redirectsAsIncludes]), ...(terminal === undefined ? [] : [terminal])];
}

/** Identical mechanisms are redundant and a repeated modifier is a permerror (RFC 7208 §6). */
function dedupeTerms(terms: string[]): string[] {
  const seen = new Set<string>();
  return terms.filter((term) => {
    const key = (MODIFIER_TERM.exec(term)?.[1] ?? term).toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * New includes go before the first `all`/`redirect=`: terms after `all` are never evaluated, and
 * `redirect=` only applies once every mechanism has failed to match.
 */
function withIncludes(terms: string[], includes: string[]): string[] {
  const allowed = terms.map((term) => allowInclude(term, includes));
  const missing = missingIncludes(allowed, includes).map((include) => `include:${include}`);
  const at = allowed.findIndex((term) => isTerminalAll(term) || isRedirect(term));
  return at === -1 ? [...allowed, ...missing] : [...allowed.slice(0, at), ...missing, ...allowed.slice(at)];
}

/**
 * `-include:X` rejects X's senders, and being evaluated first it would still win over an added
 * `include:X`, so the qualifier itself has to change.
 */
function allowInclude(term: string, includes: string[]): string {
  const match = INCLUDE_TERM.exec(term);
  if (match?.[1] !== '-' || !includes.includes(normalizeName(match[2] ?? ''))) return term;
  return term.slice(1);
}

function missingIncludes(terms: string[], includes: string[]): string[] {
  const present = new Set(terms.flatMap((term) => {
    const match = INCLUDE_TERM.exec(term);
    return match !== null && match[1] !== '-' ? [normalizeName(match[2] ?? '')] : [];
  }));
  return includes.filter((include) => !present.has(include));
}

function uniqueDomains(domains: string[]): string[] {
  return [...new Set(domains.map(normalizeName))];
}

function isTerminalAll(term: string): boolean {
  return ALL_TERM.test(term);
}

function isRedirect(term: string): boolean {
  return REDIRECT_TERM.test(term);
}
