// A plain-object resolver for check tests: names and types mapped to records, NXDOMAIN for the
// rest, and 'FAIL' for a lookup that could not be made (timeout).
import type { Lookup, LookupResult } from '../../../server/dns/resolver.ts';
import type { RData, WireRecord } from '../../../server/dns/wire.ts';

export type FakeZone = Record<string, Array<RData | string> | 'FAIL' | 'NODATA'>;

export function record(name: string, type: string, data: RData, ttl = 300): WireRecord {
  return { name, type, typeCode: 0, class: 'IN', ttl, data, offset: 0, rdlength: 0 };
}

export const txt = (...strings: string[]): Buffer[] => strings.map((s) => Buffer.from(s));

/** Keys are `name|TYPE`; a value is the list of RDATA, 'NODATA' or 'FAIL'. Asked lookups are counted. */
export function fakeLookup(zone: FakeZone): Lookup & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    async lookup(name: string, type: string): Promise<LookupResult> {
      const key = `${name.toLowerCase().replace(/\.$/, '')}|${type.toUpperCase()}`;
      asked.push(key);
      const entry = zone[key];
      const base: LookupResult = { name, type, outcome: 'nxdomain', records: [], chain: [], ttl: null, negativeTtl: 300, soa: null, authoritative: true, server: 'fake', failure: null, errors: [] };
      if (entry === 'FAIL') return { ...base, outcome: 'failed', failure: 'timeout', errors: [`no reply for ${key}`] };
      if (entry === 'NODATA') return { ...base, outcome: 'nodata' };
      if (entry === undefined) {
        const exists = Object.keys(zone).some((k) => k.startsWith(`${key.split('|')[0]}|`));
        return { ...base, outcome: exists ? 'nodata' : 'nxdomain' };
      }
      const records = entry.map((data) => record(name, type.toUpperCase(), data as RData));
      return { ...base, outcome: 'answer', records, ttl: 300, negativeTtl: null };
    },
  };
}
