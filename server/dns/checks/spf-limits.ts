// The record as a tree: every include and redirect followed, every DNS-querying term counted
// (RFC 7208 §4.6.4: at most 10; a, mx, ptr, exists, include, redirect), every lookup that finds
// nothing counted as void (at most 2), loops detected. Counting follows checkdmarc: the whole
// tree, whatever the sending address, so it is the worst case a receiver can hit.
import { normalizeName } from '../names.ts';
import type { Lookup, LookupResult } from '../resolver.ts';
import { txtText } from '../rdata.ts';
import type { MxData } from '../wire.ts';
import { hasMacro, parseSpf, type SpfTerm } from './spf-syntax.ts';
import type { CheckResult, CheckStatus } from './types.ts';

export const MAX_LOOKUPS = 10;
export const MAX_VOIDS = 2;
/** RFC 7208 §4.6.4: an mx mechanism may look up the addresses of at most 10 hosts. */
const MAX_MX_HOSTS = 10;

export interface SpfAnalysis {
  lookups: number;
  voids: number;
  errors: string[];
  warnings: string[];
  /** Lookups that could not be made (timeouts, refusals): the counts are then a lower bound. */
  unresolved: string[];
  /** The tree, one line per record: `example.test → include:a (2 lookups)`. */
  tree: string[];
}

const isVoid = (result: LookupResult) => result.outcome === 'nxdomain' || result.outcome === 'nodata';

/** The single SPF record of a domain, or why there is none. */
async function spfRecordOf(domain: string, resolver: Lookup): Promise<{ record: string | null; result: LookupResult; several: boolean }> {
  const result = await resolver.lookup(domain, 'TXT');
  const records = result.records.map((record) => txtText(record.data)).filter((text) => /^v=spf1(\s|$)/i.test(text));
  return { record: records.length === 1 ? records[0]! : null, result, several: records.length > 1 };
}

export async function analyzeSpf(domain: string, record: string, resolver: Lookup): Promise<SpfAnalysis> {
  const analysis: SpfAnalysis = { lookups: 0, voids: 0, errors: [], warnings: [], unresolved: [], tree: [] };
  const includedOnce = new Set<string>();
  await walk(normalizeName(domain), record, [normalizeName(domain)], 0, analysis, resolver, includedOnce);
  if (analysis.lookups > MAX_LOOKUPS) analysis.errors.unshift(`${analysis.lookups} DNS-querying terms in the tree, more than the ${MAX_LOOKUPS} allowed: receivers return permerror`);
  if (analysis.voids > MAX_VOIDS) analysis.errors.unshift(`${analysis.voids} lookups find nothing, more than the ${MAX_VOIDS} allowed: receivers return permerror`);
  return analysis;
}

async function walk(domain: string, record: string, path: string[], depth: number, analysis: SpfAnalysis, resolver: Lookup, includedOnce: Set<string>): Promise<void> {
  const parsed = parseSpf(record);
  const where = depth === 0 ? '' : ` (in the record of ${domain})`;
  analysis.errors.push(...parsed.errors.map((error) => `${error}${where}`));
  if (depth === 0) analysis.warnings.push(...parsed.warnings);
  const before = analysis.lookups;
  const hasAll = parsed.terms.some((term) => term.kind === 'mechanism' && term.name === 'all');
  const children: Array<{ via: string; target: string }> = [];
  for (const term of parsed.terms) {
    const target = await countTerm(domain, term, hasAll, analysis, resolver);
    if (target) children.push(target);
  }
  analysis.tree.push(`${'  '.repeat(depth)}${domain}: ${analysis.lookups - before} lookup(s) here${children.length ? `, then ${children.map((c) => c.via).join(', ')}` : ''}`);
  for (const { via, target } of children) {
    if (path.includes(target)) {
      analysis.errors.push(`loop: ${[...path, target].join(' → ')}`);
      continue;
    }
    if (includedOnce.has(target)) analysis.warnings.push(`${target} is included more than once`);
    includedOnce.add(target);
    const found = await spfRecordOf(target, resolver);
    if (found.result.outcome === 'failed') {
      analysis.unresolved.push(`${via}: ${found.result.errors.join('; ') || 'no answer'}`);
      continue;
    }
    if (isVoid(found.result)) analysis.voids += 1;
    if (found.several) {
      analysis.errors.push(`${via}: ${target} publishes several SPF records (permerror)`);
      continue;
    }
    if (found.record === null) {
      analysis.errors.push(`${via}: ${target} has no SPF record (permerror)`);
      continue;
    }
    await walk(target, found.record, [...path, target], depth + 1, analysis, resolver, includedOnce);
  }
}

/** Counts one term's lookups and voids; returns the domain to descend into for include/redirect. */
async function countTerm(domain: string, term: SpfTerm, hasAll: boolean, analysis: SpfAnalysis, resolver: Lookup): Promise<{ via: string; target: string } | null> {
  if (term.kind === 'modifier') {
    if (term.name !== 'redirect' || hasAll) return null;
    analysis.lookups += 1;
    return follow(term.text, term.value, analysis);
  }
  switch (term.name) {
    case 'include':
      analysis.lookups += 1;
      return follow(term.text, term.domain!, analysis);
    case 'a': {
      analysis.lookups += 1;
      const target = term.domain ?? domain;
      if (hasMacro(target)) return null;
      const [v4, v6] = await Promise.all([resolver.lookup(target, 'A'), resolver.lookup(target, 'AAAA')]);
      if (v4.outcome === 'failed' && v6.outcome === 'failed') analysis.unresolved.push(`${term.text}: ${v4.errors.join('; ') || 'no answer'}`);
      else if (isVoid(v4) && isVoid(v6)) analysis.voids += 1;
      return null;
    }
    case 'mx': {
      analysis.lookups += 1;
      const target = term.domain ?? domain;
      if (hasMacro(target)) return null;
      const mx = await resolver.lookup(target, 'MX');
      if (mx.outcome === 'failed') analysis.unresolved.push(`${term.text}: ${mx.errors.join('; ') || 'no answer'}`);
      else if (isVoid(mx)) analysis.voids += 1;
      else if (mx.records.length > MAX_MX_HOSTS) analysis.errors.push(`${term.text}: ${mx.records.length} MX hosts, more than the ${MAX_MX_HOSTS} a receiver may look up (permerror)`);
      else {
        const hosts = mx.records.map((record) => (record.data as MxData).exchange);
        const results = await Promise.all(hosts.map((host) => resolver.lookup(host, 'A')));
        const empty = hosts.filter((_, i) => isVoid(results[i]!));
        if (empty.length) analysis.warnings.push(`${term.text}: MX host(s) without an address: ${empty.join(', ')}`);
      }
      return null;
    }
    case 'exists':
    case 'ptr':
      analysis.lookups += 1;
      return null;
    default:
      return null;
  }
}

function follow(via: string, target: string, analysis: SpfAnalysis): { via: string; target: string } | null {
  if (hasMacro(target)) {
    analysis.warnings.push(`${via} depends on the sender (macro); not followed`);
    return null;
  }
  return { via, target: normalizeName(target) };
}

/** The limits as a check: red over the limits or with a loop, grey when part of the tree could not be read. */
export function spfLimitsCheck(analysis: SpfAnalysis): CheckResult {
  let status: CheckStatus = 'ok';
  if (analysis.errors.length > 0) status = 'error';
  else if (analysis.unresolved.length > 0) status = 'unknown';
  else if (analysis.warnings.length > 0) status = 'warn';
  const partial = analysis.unresolved.length > 0 ? ' (at least: part of the tree could not be read)' : '';
  const result: CheckResult = {
    id: 'spf-limits', title: 'SPF limits', status,
    found: [`${analysis.lookups}/${MAX_LOOKUPS} DNS lookups, ${analysis.voids}/${MAX_VOIDS} void${partial}`],
    expected: [`at most ${MAX_LOOKUPS} DNS lookups and ${MAX_VOIDS} void lookups, no loop, valid syntax`],
    details: [...analysis.errors, ...analysis.warnings, ...analysis.unresolved.map((line) => `not read: ${line}`), ...analysis.tree],
    gate: 'no-error',
  };
  if (status === 'error') {
    result.fix = analysis.lookups > MAX_LOOKUPS
      ? 'reduce the DNS-querying terms: replace includes of senders you no longer use, or list their ip4:/ip6: ranges instead of a, mx and nested includes'
      : 'correct the terms named above; a receiver rejects the whole record on any of them';
  }
  return result;
}
