// From the zone as it is to the zone the destination platform needs: the RRsets to replace, each
// change guarded by a prerequisite that the RRset still holds exactly what the plan was made
// from (an optimistic lock: a concurrent edit makes the whole update fail, nothing half-applied).
import type { DnsChange, DnsPrerequisite, DnsProvider, DnsRecord, ExpectedDns } from '../plugins/contract.ts';
import { srvRdata } from './checks/client-config.ts';
import { checkSpf, mergeSpf, spfRecords } from './checks/spf.ts';
import { fqdn, normalizeName } from './names.ts';
import { canonicalRdata, tokenize } from './rdata.ts';
import { txtRdata } from './zonefile.ts';

export interface RRsetKey { name: string; type: string }

/** Current records by `name|TYPE`; an absent key reads as an empty RRset. */
export type ZoneState = Map<string, DnsRecord[]>;

export interface CutoverPlan {
  changes: DnsChange[];
  prerequisites: DnsPrerequisite[];
  /** One line per RRset that changes, for the timeline. */
  summary: string[];
  /** What the plan cannot do safely and leaves to the admin. */
  manual: string[];
  /** The RRsets the plan replaces, with their current TTL (for lowering TTLs first). */
  replaced: Array<RRsetKey & { ttl: number | null }>;
}

interface Desired { name: string; type: string; values: string[]; why: string }

export function rrsetKey(name: string, type: string): string {
  return `${normalizeName(name)}|${type.toUpperCase()}`;
}

function recordsOf(state: ZoneState, name: string, type: string): DnsRecord[] {
  return state.get(rrsetKey(name, type)) ?? [];
}

/** Every RRset the plan for `domain` reads: what to fetch from the provider before planning. */
export function plannedRRsets(domain: string, expected: ExpectedDns): RRsetKey[] {
  const d = normalizeName(domain);
  const keys: RRsetKey[] = [{ name: d, type: 'MX' }, { name: d, type: 'TXT' }];
  if (expected.autodiscover?.srv) keys.push({ name: `_autodiscover._tcp.${d}`, type: 'SRV' });
  for (const host of [expected.autodiscover?.cname ? 'autodiscover' : null, expected.autoconfig ? 'autoconfig' : null]) {
    if (host) keys.push({ name: `${host}.${d}`, type: 'CNAME' }, { name: `${host}.${d}`, type: 'A' }, { name: `${host}.${d}`, type: 'AAAA' });
  }
  for (const selector of expected.dkim ?? []) {
    if (selector.cname || selector.txt) keys.push({ name: `${selector.selector}._domainkey.${d}`, type: selector.cname ? 'CNAME' : 'TXT' });
  }
  for (const service of expected.srv ?? []) keys.push({ name: `${service.service.replace(/\.$/, '')}.${d}`, type: 'SRV' });
  return keys;
}

export async function readZoneState(provider: DnsProvider, zone: string, keys: RRsetKey[]): Promise<ZoneState> {
  const state: ZoneState = new Map();
  for (const key of keys) state.set(rrsetKey(key.name, key.type), await provider.listRecords(zone, key.name, key.type));
  return state;
}

function sameValues(type: string, a: string[], b: string[]): boolean {
  const canon = (values: string[]) => [...new Set(values.map((value) => canonicalRdata(type, value)))].sort().join('\n');
  return canon(a) === canon(b);
}

function txtStrings(record: DnsRecord): string[] {
  return tokenize(record.data).map((token) => token.bytes.toString('utf8'));
}

export function planCutover(domain: string, expected: ExpectedDns, state: ZoneState, ttl: number): CutoverPlan {
  const d = normalizeName(domain);
  const plan: CutoverPlan = { changes: [], prerequisites: [], summary: [], manual: [], replaced: [] };
  const desired: Desired[] = [{ name: d, type: 'MX', values: expected.mx.map((mx) => `${mx.priority} ${fqdn(mx.exchange)}`), why: 'MX of the destination' }];
  if (expected.autodiscover?.srv) desired.push({ name: `_autodiscover._tcp.${d}`, type: 'SRV', values: [srvRdata(expected.autodiscover.srv)], why: 'autodiscover SRV' });
  for (const service of expected.srv ?? []) desired.push({ name: `${service.service.replace(/\.$/, '')}.${d}`, type: 'SRV', values: [srvRdata(service)], why: `RFC 6186 ${service.service}` });
  for (const selector of expected.dkim ?? []) {
    const name = `${selector.selector}._domainkey.${d}`;
    if (selector.cname) desired.push({ name, type: 'CNAME', values: [fqdn(selector.cname)], why: `DKIM selector ${selector.selector}` });
    else if (selector.txt) desired.push({ name, type: 'TXT', values: [txtRdata(selector.txt)], why: `DKIM selector ${selector.selector}` });
  }
  const aliases: Array<[string, string | undefined]> = [['autodiscover', expected.autodiscover?.cname], ['autoconfig', expected.autoconfig?.cname]];
  for (const [host, target] of aliases) {
    if (!target) continue;
    const name = `${host}.${d}`;
    const addresses = [...recordsOf(state, name, 'A'), ...recordsOf(state, name, 'AAAA')];
    if (addresses.length > 0) {
      plan.manual.push(`${name} has address records (${addresses.map((r) => r.data).join(', ')}): replace them by CNAME ${fqdn(target)} by hand`);
      continue;
    }
    // A CNAME cannot share its name: the plan also requires the addresses to stay absent.
    plan.prerequisites.push({ name, type: 'A', data: [] }, { name, type: 'AAAA', data: [] });
    desired.push({ name, type: 'CNAME', values: [fqdn(target)], why: host });
  }
  for (const want of desired) replaceRRset(plan, state, want, ttl);
  if (expected.spfIncludes.length > 0) planSpf(plan, d, expected.spfIncludes, state, ttl);
  // Prerequisites for names that end up unchanged only lock what nobody touches: drop them.
  const changedNames = new Set(plan.changes.map((change) => normalizeName(change.op === 'deleteRRset' ? change.name : change.record.name)));
  plan.prerequisites = plan.prerequisites.filter((p) => changedNames.has(normalizeName(p.name)));
  return plan;
}

function replaceRRset(plan: CutoverPlan, state: ZoneState, want: Desired, ttl: number): void {
  const current = recordsOf(state, want.name, want.type);
  if (sameValues(want.type, current.map((r) => r.data), want.values)) return;
  plan.prerequisites.push({ name: want.name, type: want.type, data: current.map((r) => r.data) });
  if (current.length > 0) plan.changes.push({ op: 'deleteRRset', name: want.name, type: want.type });
  for (const value of want.values) plan.changes.push({ op: 'add', record: { name: want.name, type: want.type, ttl, data: value } });
  plan.replaced.push({ name: want.name, type: want.type, ttl: current[0]?.ttl ?? null });
  plan.summary.push(`${want.why}: ${fqdn(want.name)} ${want.type} ${current.map((r) => r.data).join(', ') || '(none)'} → ${want.values.join(', ')}`);
}

/** Exactly one SPF record with the destination's includes, merged with what the domain already authorises. */
function planSpf(plan: CutoverPlan, domain: string, includes: string[], state: ZoneState, ttl: number): void {
  const txt = [...recordsOf(state, domain, 'TXT')].sort((a, b) => a.data.localeCompare(b.data));
  const strings = txt.map(txtStrings);
  if (checkSpf(domain, strings, includes).status === 'ok') return;
  const spf = spfRecords(strings);
  const merged = mergeSpf(spf.map((r) => r.text), includes);
  if (spf.length === 1 && spf[0]!.text === merged) {
    plan.manual.push(`the SPF record of ${domain} is invalid and merging cannot fix it: correct it by hand`);
    return;
  }
  const spfData = txt.filter((_, i) => spfRecords([strings[i]!]).length === 1);
  plan.prerequisites.push({ name: domain, type: 'TXT', data: txt.map((r) => r.data) });
  for (const record of spfData) plan.changes.push({ op: 'delete', record: { name: domain, type: 'TXT', data: record.data } });
  plan.changes.push({ op: 'add', record: { name: domain, type: 'TXT', ttl, data: txtRdata(merged) } });
  plan.replaced.push({ name: domain, type: 'TXT', ttl: txt[0]?.ttl ?? null });
  plan.summary.push(`SPF: ${spf.map((r) => r.text).join(' | ') || '(none)'} → ${merged}`);
}

/**
 * The same RRsets with another TTL: deleted and added back in one update, guarded by their
 * exact current values. RRsets already at `ttl`, or empty, are left alone.
 */
export function planTtl(state: ZoneState, keys: RRsetKey[], ttl: number): { changes: DnsChange[]; prerequisites: DnsPrerequisite[]; previous: number } {
  const changes: DnsChange[] = [];
  const prerequisites: DnsPrerequisite[] = [];
  let previous = 0;
  for (const key of keys) {
    const records = recordsOf(state, key.name, key.type);
    if (records.length === 0 || records.every((record) => record.ttl === ttl)) continue;
    previous = Math.max(previous, ...records.map((record) => record.ttl));
    prerequisites.push({ name: key.name, type: key.type, data: records.map((r) => r.data) });
    changes.push({ op: 'deleteRRset', name: key.name, type: key.type });
    for (const record of records) changes.push({ op: 'add', record: { name: key.name, type: key.type, ttl, data: record.data } });
  }
  return { changes, prerequisites, previous };
}
