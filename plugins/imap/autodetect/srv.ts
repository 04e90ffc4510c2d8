import type { Lookup } from '../../../server/dns/resolver.ts';
import type { SrvData } from '../../../server/dns/wire.ts';
import { hostname } from '../../../server/net.ts';
import { stripDot, type Candidate } from './candidate.ts';

/** RFC 6186: implicit TLS first (`_imaps._tcp`), then STARTTLS (`_imap._tcp`); a target of "." says the service is not offered. */
const SERVICES = [{ label: '_imaps._tcp', security: 'tls' }, { label: '_imap._tcp', security: 'starttls' }] as const;

export async function srvCandidates(resolver: Lookup, address: string, domain: string, tried: string[]): Promise<Candidate[]> {
  const found: Candidate[] = [];
  for (const service of SERVICES) {
    const name = `${service.label}.${domain}`;
    const result = await resolver.lookup(name, 'SRV');
    if (result.outcome !== 'answer') { tried.push(`SRV ${name}: ${result.outcome === 'failed' ? `lookup failed (${result.failure})` : 'none'}`); continue; }
    // RFC 2782: lowest priority first, then the heaviest weight (the order a client tries them in).
    const records = result.records.map((r) => r.data as SrvData).sort((a, b) => a.priority - b.priority || b.weight - a.weight);
    for (const srv of records) {
      const target = stripDot(srv.target);
      if (target === '' || srv.port === 0) { tried.push(`SRV ${name}: "." (service not offered)`); continue; }
      if (!hostname.safeParse(target).success) { tried.push(`SRV ${name}: target "${target.slice(0, 80)}" is not a host name`); continue; }
      found.push({ host: target, port: srv.port, security: service.security, login: address, source: `SRV ${name}` });
    }
  }
  return found;
}
