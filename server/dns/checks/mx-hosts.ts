// The MX hosts themselves: each must have an address, and none may be an alias (RFC 2181 §10.3,
// RFC 5321 §5.1: an MX target is a host name, not a CNAME).
import { fqdn } from '../names.ts';
import type { Lookup } from '../resolver.ts';
import type { MxRecord } from './mx.ts';
import type { CheckResult, CheckStatus } from './types.ts';

export async function checkMxHosts(records: MxRecord[], lookup: Lookup): Promise<CheckResult> {
  const hosts = [...new Set(records.map((record) => record.exchange.toLowerCase().replace(/\.$/, '')))].filter((host) => host !== '' && host !== '.').sort();
  const base = { id: 'mx-hosts', title: 'MX hosts', expected: ['every MX host has an address and is not a CNAME'] };
  const lines = await Promise.all(hosts.map(async (host) => {
    const [cname, v4, v6] = await Promise.all([lookup.lookup(host, 'CNAME'), lookup.lookup(host, 'A'), lookup.lookup(host, 'AAAA')]);
    const addresses = [...v4.records, ...v6.records].map((record) => String(record.data));
    if (cname.outcome === 'answer') return { host, status: 'warn' as CheckStatus, text: `${host} is a CNAME to ${fqdn(String(cname.records[0]!.data))}` };
    if (addresses.length > 0) return { host, status: 'ok' as CheckStatus, text: `${host} → ${addresses.join(', ')}` };
    if (v4.outcome === 'failed' && v6.outcome === 'failed') return { host, status: 'unknown' as CheckStatus, text: `${host}: could not be resolved (${v4.errors[0] ?? 'no answer'})` };
    return { host, status: 'error' as CheckStatus, text: `${host} has no address (${v4.outcome === 'nxdomain' ? 'no such name' : 'no A/AAAA record'})` };
  }));
  const order: CheckStatus[] = ['error', 'unknown', 'warn'];
  const status = order.find((s) => lines.some((line) => line.status === s)) ?? 'ok';
  const result: CheckResult = { ...base, status, found: lines.map((line) => line.text) };
  if (status === 'error' || status === 'warn') {
    const bad = lines.filter((line) => line.status === 'error' || line.status === 'warn').map((line) => line.host);
    result.fix = `point the MX records at host names with A/AAAA records (not aliases): ${bad.join(', ')}`;
  }
  return result;
}
