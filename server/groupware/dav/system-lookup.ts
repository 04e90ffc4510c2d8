// SRV and TXT through the system resolver (node:dns), for `cutover copy`: the project's resolver
// (server/dns) needs import.meta, which the copy command's CommonJS bundle cannot carry. The
// workflow uses the project's resolver.
import { Resolver } from 'node:dns/promises';
import type { Lookup, LookupResult } from '../../dns/resolver.ts';

/** `servers` (HOST:PORT, e.g. from `--nameserver`) replace the system's resolvers. */
export function systemLookup(servers: string[] = []): Lookup {
  const resolver = new Resolver({ timeout: 3_000, tries: 2 });
  if (servers.length) resolver.setServers(servers);
  return {
    async lookup(name, type) {
      let data: unknown[] = [];
      const errors: string[] = [];
      try {
        data = type === 'SRV' ? await resolver.resolveSrv(name).then((r) => r.map((s) => ({ priority: s.priority, weight: s.weight, port: s.port, target: s.name })))
          : type === 'TXT' ? await resolver.resolveTxt(name) : [];
      } catch (err) {
        errors.push((err as Error).message);
      }
      const records = data.map((d) => ({ name, type, typeCode: 0, class: 'IN', ttl: 0, data: d }));
      return { name, type, outcome: records.length ? 'answer' : 'failed', records, chain: [], ttl: null, negativeTtl: null, soa: null, authoritative: false, server: null, failure: null, errors } as unknown as LookupResult;
    },
  };
}
