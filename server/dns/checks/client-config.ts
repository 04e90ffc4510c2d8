// Mail client auto-configuration the platform defines: Outlook's autodiscover (SRV and/or CNAME),
// Thunderbird's autoconfig CNAME, and RFC 6186 service records (_imaps._tcp, _submissions._tcp…).
import type { SrvTarget } from '../../plugins/contract.ts';
import { fqdn, normalizeName } from '../names.ts';
import type { Lookup } from '../resolver.ts';
import type { SrvData } from '../wire.ts';
import { DEFAULT_TTL, describeChange, zoneLine } from '../zonefile.ts';
import type { CheckResult, CheckStatus } from './types.ts';

export function srvRdata(target: SrvTarget): string {
  return `${target.priority ?? 0} ${target.weight ?? 0} ${target.port} ${fqdn(target.target)}`;
}

function srvText(data: SrvData): string {
  return `${data.priority} ${data.weight} ${data.port} ${fqdn(data.target)}`;
}

/** One SRV RRset against its expected single target; extra or different targets are red. */
export async function checkSrv(id: string, title: string, owner: string, expected: SrvTarget, lookup: Lookup): Promise<CheckResult> {
  const want = srvRdata(expected);
  const base = { id, title, expected: [want] };
  const result = await lookup.lookup(owner, 'SRV');
  if (result.outcome === 'failed') return { ...base, status: 'unknown', found: [] };
  const found = result.records.map((record) => srvText(record.data as SrvData));
  const matches = (text: string) => text.toLowerCase() === want.toLowerCase();
  const ok = found.length === 1 && matches(found[0]!);
  const status: CheckStatus = ok ? 'ok' : found.some(matches) ? 'warn' : 'error';
  if (ok) return { ...base, status, found };
  const fix = describeChange([zoneLine({ owner, ttl: DEFAULT_TTL, type: 'SRV', rdata: want })], found.filter((text) => !matches(text)).map((text) => zoneLine({ owner, type: 'SRV', rdata: text })));
  return { ...base, status, found, fix };
}

/** A CNAME that must point at the platform's host. */
export async function checkCname(id: string, title: string, owner: string, target: string, lookup: Lookup): Promise<CheckResult> {
  const want = fqdn(target);
  const base = { id, title, expected: [`CNAME ${want}`] };
  const result = await lookup.lookup(owner, 'CNAME');
  if (result.outcome === 'failed') return { ...base, status: 'unknown', found: [] };
  const alias = result.records[0] ? fqdn(String(result.records[0].data)) : null;
  if (alias === want) return { ...base, status: 'ok', found: [`CNAME ${alias}`] };
  const address = alias ? null : await lookup.lookup(owner, 'A');
  const found = alias ? [`CNAME ${alias}`] : address?.records.map((record) => `A ${String(record.data)}`) ?? [];
  const remove = alias ? [zoneLine({ owner, type: 'CNAME', rdata: alias })] : found.map((text) => zoneLine({ owner, type: 'A', rdata: text.slice(2) }));
  return { ...base, status: 'error', found, fix: describeChange([zoneLine({ owner, ttl: DEFAULT_TTL, type: 'CNAME', rdata: want })], remove) };
}

export interface ClientConfigExpectations {
  autodiscover?: { srv?: SrvTarget; cname?: string };
  autoconfig?: { cname: string };
  srv?: Array<SrvTarget & { service: string }>;
}

export async function clientConfigChecks(domain: string, expected: ClientConfigExpectations, lookup: Lookup): Promise<CheckResult[]> {
  const d = normalizeName(domain);
  const pending: Array<Promise<CheckResult>> = [];
  if (expected.autodiscover?.srv) pending.push(checkSrv('autodiscover-srv', 'Autodiscover SRV', `_autodiscover._tcp.${d}`, expected.autodiscover.srv, lookup));
  if (expected.autodiscover?.cname) pending.push(checkCname('autodiscover', 'Autodiscover', `autodiscover.${d}`, expected.autodiscover.cname, lookup));
  if (expected.autoconfig) pending.push(checkCname('autoconfig', 'Autoconfig', `autoconfig.${d}`, expected.autoconfig.cname, lookup));
  for (const service of expected.srv ?? []) {
    const name = service.service.replace(/\.$/, '');
    pending.push(checkSrv(`srv:${name}`, `SRV ${name}`, `${name}.${d}`, service, lookup));
  }
  return Promise.all(pending);
}
