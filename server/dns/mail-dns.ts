// The whole mail DNS diagnosis of a domain, as `cutover dns check`, the dns-cutover step and the
// domain page show it: where the zone is and which servers are authoritative, what each of them
// serves, every record check against the destination platform's expectations, and what the
// recursive resolvers still cache.
import type { ExpectedDns } from '../plugins/contract.ts';
import { authoritativeServers, findZoneCut } from './authority.ts';
import { clientConfigChecks } from './checks/client-config.ts';
import { checkDkim } from './checks/dkim.ts';
import { checkDmarc } from './checks/dmarc.ts';
import { formatCheck } from './checks/format.ts';
import { checkMx, type MxRecord } from './checks/mx.ts';
import { checkMxHosts } from './checks/mx-hosts.ts';
import { checkSpf, mergeSpf, spfRecords } from './checks/spf.ts';
import { checkHost, spfAuthCheck } from './checks/spf-auth.ts';
import { analyzeSpf, spfLimitsCheck } from './checks/spf-limits.ts';
import { blockingChecks, worstStatus, type CheckResult, type CheckStatus } from './checks/types.ts';
import { normalizeName } from './names.ts';
import { newestServer, propagationCheck, readAuthoritative, readResolvers, resolversCheck, type Probe, type ResolverState, type ServerState } from './propagation.ts';
import { RoutingResolver, ServerResolver, type Lookup, type LookupResult } from './resolver.ts';
import { formatNameServer, systemNameServers, type NameServer, type QueryOptions } from './transport.ts';
import type { MxData, WireRecord } from './wire.ts';

export type MailDnsExpectations = ExpectedDns;

export interface DiagnoseOptions {
  /** Recursive resolvers given explicitly (`--nameserver`); default: /etc/resolv.conf. */
  resolvers?: NameServer[];
  /** The zone's authoritative servers, replacing NS discovery (`--authoritative`). */
  authoritative?: NameServer[];
  /** The source platform's records: its MX hosts and SPF includes still published are flagged. */
  old?: ExpectedDns;
  query?: QueryOptions;
  /** Queries per probe and resolver, to see more than one anycast cache. Default 2. */
  resolverRepeats?: number;
}

export interface AuthoritativeView { label: string; nsName: string; address: string | null; state: string; serial: number | null; probes: Array<{ id: string; found: string; ok: boolean }>; detail: string | null }

export interface MailDnsReport {
  domain: string;
  zone: string | null;
  /** Worst of the checks (see worstStatus). */
  status: CheckStatus;
  /** Checks that keep the cutover waiting (status not good enough for their gate). */
  blocking: string[];
  checks: CheckResult[];
  authoritativeSource: 'override' | 'configured' | 'ns' | 'none';
  authoritative: AuthoritativeView[];
  resolvers: ResolverState[];
  /** Where the record checks read the zone's data: the newest authoritative server, or the resolvers. */
  server: string;
  checkedAt: string;
  elapsedMs: number;
  /** Why lookups failed (timeouts, SERVFAIL…); explains an unknown check. */
  errors: string[];
}

function inZone(name: string, zone: string): boolean {
  const n = normalizeName(name);
  return n === zone || n.endsWith(`.${zone}`);
}

function mxSetKey(records: MxRecord[]): string {
  return [...new Set(records.map((r) => `${r.priority} ${normalizeName(r.exchange)}`))].sort().join(',');
}

/** What "the change has reached this server" means: the MX set, and one SPF record with the includes. */
export function cutoverProbes(domain: string, expected: ExpectedDns): Probe[] {
  const d = normalizeName(domain);
  const wantMx = mxSetKey(expected.mx);
  const probes: Probe[] = [{
    id: 'MX', name: d, type: 'MX',
    matches: (records) => mxSetKey(records.map((r) => ({ priority: (r.data as MxData).preference, exchange: (r.data as MxData).exchange }))) === wantMx,
    show: (records) => records.map((r) => `${(r.data as MxData).preference} ${(r.data as MxData).exchange}`).sort().join(', ') || '(none)',
  }];
  if (expected.spfIncludes.length > 0) {
    probes.push({
      id: 'SPF', name: d, type: 'TXT',
      matches: (records) => checkSpf(d, txtStrings(records), expected.spfIncludes).status === 'ok',
      show: (records) => spfRecords(txtStrings(records)).map((r) => r.text).join(' | ') || '(none)',
    });
  }
  return probes;
}

function txtStrings(records: WireRecord[]): string[][] {
  return records.filter((r) => r.type === 'TXT').map((r) => (r.data as Buffer[]).map((part) => part.toString('utf8')));
}

function mxRecords(result: LookupResult): MxRecord[] | null {
  if (result.outcome === 'failed') return null;
  return result.records.map((r) => ({ priority: (r.data as MxData).preference, exchange: (r.data as MxData).exchange }));
}

/** Sorted, so the same zone always gives the same merged record and the same fix (servers rotate RRsets). */
function txtOf(result: LookupResult): string[][] | null {
  return result.outcome === 'failed' ? null : txtStrings(result.records).sort((a, b) => a.join('').localeCompare(b.join('')));
}

function publicView(state: ServerState): AuthoritativeView {
  const { records: _records, ...rest } = state;
  return rest;
}

export async function diagnoseMailDns(domain: string, expected: ExpectedDns, opts: DiagnoseOptions = {}): Promise<MailDnsReport> {
  const started = Date.now();
  const d = normalizeName(domain);
  const explicit = opts.resolvers ?? [];
  const resolverServers = explicit.length > 0 ? explicit : systemNameServers();
  const queryOpts = opts.query ?? {};
  const recursive = new ServerResolver(resolverServers, queryOpts);

  const cut = await findZoneCut(d, recursive);
  const zone = cut?.zone ?? null;
  const auth = zone
    ? await authoritativeServers(zone, recursive, { override: opts.authoritative, configured: explicit, query: queryOpts })
    : { servers: [], source: 'none' as const, notes: [`no zone found above ${d}: the resolvers gave no SOA (${resolverServers.map(formatNameServer).join(', ')})`] };
  const probes = cutoverProbes(d, expected);
  const states = zone ? await readAuthoritative(auth.servers, zone, probes, queryOpts) : [];
  const newest = newestServer(states);
  const newestAddress = newest ? auth.servers.find((s) => s.label === newest.label)?.address ?? null : null;
  const zoneResolver = newestAddress ? new ServerResolver([newestAddress], { ...queryOpts, recursionDesired: false }) : null;
  const lookup: Lookup = new RoutingResolver((name) => (zoneResolver && zone && inZone(name, zone) ? zoneResolver : recursive), recursive);

  const [mxResult, txtResult] = await Promise.all([lookup.lookup(d, 'MX'), lookup.lookup(d, 'TXT')]);
  const foundMx = mxRecords(mxResult);
  const txt = txtOf(txtResult);
  const checks: CheckResult[] = [checkMx(d, foundMx, expected.mx, opts.old?.mx ?? [])];
  checks.push(foundMx && foundMx.length > 0 ? await checkMxHosts(foundMx, lookup) : { id: 'mx-hosts', title: 'MX hosts', status: foundMx ? 'error' : 'unknown', found: [], expected: ['every MX host has an address and is not a CNAME'] });

  const spf = checkSpf(d, txt, expected.spfIncludes, opts.old?.spfIncludes ?? []);
  if (expected.spfIncludes.length > 0 || (txt && spfRecords(txt).length > 0)) checks.push(spf);
  const current = txt ? spfRecords(txt) : [];
  if (current.length === 1) {
    const analysis = await analyzeSpf(d, current[0]!.text, lookup);
    const limits = spfLimitsCheck(analysis);
    if (spf.status !== 'ok' && expected.spfIncludes.length > 0) {
      const merged = await analyzeSpf(d, mergeSpf(current.map((r) => r.text), expected.spfIncludes), lookup);
      limits.details = [...(limits.details ?? []), `the merged record would need ${merged.lookups}/10 DNS lookups${merged.lookups > 10 ? ': too many, flatten it' : ''}`];
    }
    checks.push(limits);
  }
  if (expected.sendingIps && expected.sendingIps.length > 0) {
    const results = await Promise.all(expected.sendingIps.map((ip) => checkHost(ip, d, lookup)));
    checks.push(spfAuthCheck(d, results, spf.status === 'ok' ? undefined : spf.fix));
  }
  const [dkim, dmarc, client] = await Promise.all([
    Promise.all((expected.dkim ?? []).map((selector) => checkDkim(d, selector, lookup))),
    checkDmarc(d, lookup),
    clientConfigChecks(d, expected, lookup),
  ]);
  checks.push(...dkim, dmarc, ...client);

  const propagation = propagationCheck(states, auth.notes);
  checks.push(propagation);
  const resolverStates = await readResolvers(resolverServers, probes, queryOpts, opts.resolverRepeats ?? 2);
  checks.push(resolversCheck(resolverStates, propagation.status === 'ok'));

  const errors = [...new Set([...mxResult.errors, ...txtResult.errors])];
  return {
    domain: d,
    zone,
    status: worstStatus(checks.map((check) => check.status)),
    blocking: blockingChecks(checks).map((check) => check.id),
    checks,
    authoritativeSource: auth.source,
    authoritative: states.map(publicView),
    resolvers: resolverStates,
    server: newest ? newest.label : resolverServers.map(formatNameServer).join(', '),
    checkedAt: new Date().toISOString(),
    elapsedMs: Date.now() - started,
    errors,
  };
}

/** One line per check, supporting lines indented; query errors only when a check could not be made. */
export function formatReport(report: MailDnsReport, opts: { details?: boolean } = {}): string[] {
  const lines: string[] = [];
  for (const check of report.checks) {
    lines.push(formatCheck(check));
    if (opts.details !== false) for (const detail of check.details ?? []) lines.push(`    ${detail}`);
  }
  const unknown = report.checks.some((check) => check.status === 'unknown' && check.gate !== undefined);
  return unknown ? [...lines, ...report.errors.map((error) => `  ${error}`)] : lines;
}
