// Where a name's zone starts and which servers are authoritative for it: SOA queries walked up
// from the name, then the zone's NS set resolved to every address (IPv4 and IPv6), each one to be
// asked directly. An explicit list replaces the discovery (test servers, hidden primaries), and
// so do the configured name servers when they answer for the zone themselves.
import { normalizeName } from './names.ts';
import type { Lookup, LookupResult } from './resolver.ts';
import { formatNameServer, query, type NameServer, type QueryOptions } from './transport.ts';
import type { SoaData } from './wire.ts';

export interface ZoneCut { zone: string; soa: SoaData | null; via: string | null }

export interface AuthServer {
  /** The NS name it was found under, or 'configured' when given explicitly. */
  nsName: string;
  /** null when the NS name has no address at all (shown grey, never asked). */
  address: NameServer | null;
  label: string;
}

export interface AuthoritativeSet { servers: AuthServer[]; source: 'override' | 'configured' | 'ns'; notes: string[] }

const DEFAULT_PORT = 53;

function parent(name: string): string | null {
  const dot = name.indexOf('.');
  return dot < 0 ? null : name.slice(dot + 1);
}

/** RFC 2308 makes a negative answer carry its zone's SOA; a positive SOA answer is the apex itself. */
export async function findZoneCut(name: string, resolver: Lookup): Promise<ZoneCut | null> {
  for (let candidate: string | null = normalizeName(name); candidate !== null && candidate !== ''; candidate = parent(candidate)) {
    const result = await resolver.lookup(candidate, 'SOA');
    if (result.outcome === 'answer' && result.chain.length === 0) {
      return { zone: candidate, soa: (result.records[0]?.data ?? null) as SoaData | null, via: result.server };
    }
    if (result.soa) return { zone: result.soa.zone, soa: result.soa.data, via: result.server };
    if (result.outcome === 'failed') return null;
  }
  return null;
}

/** A server is authoritative for the zone when it answers its SOA with the AA bit set. */
async function answersFor(zone: string, server: NameServer, options: QueryOptions): Promise<boolean> {
  try {
    const response = await query(server, zone, 'SOA', { ...options, recursionDesired: false });
    return response.authoritative && response.rcode === 'NOERROR' && response.answers.some((record) => record.type === 'SOA' && normalizeName(record.name) === zone);
  } catch {
    return false;
  }
}

function addresses(result: LookupResult): string[] {
  return result.outcome === 'answer' ? result.records.map((record) => String(record.data)) : [];
}

/**
 * The servers to check. `override` is taken as is. Otherwise configured name servers that are
 * themselves authoritative for the zone are its authoritative set (whoever points cutover at the
 * zone's own server means that server); otherwise the NS set, every address of every name.
 */
export async function authoritativeServers(zone: string, resolver: Lookup, opts: { override?: NameServer[]; configured?: NameServer[]; query?: QueryOptions } = {}): Promise<AuthoritativeSet> {
  if (opts.override && opts.override.length > 0) {
    return { source: 'override', notes: [], servers: opts.override.map((address) => ({ nsName: 'configured', address, label: formatNameServer(address) })) };
  }
  const configured = opts.configured ?? [];
  if (configured.length > 0) {
    const own = await Promise.all(configured.map(async (server) => ((await answersFor(zone, server, opts.query ?? {})) ? server : null)));
    const servers = own.filter((server): server is NameServer => server !== null);
    if (servers.length > 0) return { source: 'configured', notes: [], servers: servers.map((address) => ({ nsName: 'configured', address, label: formatNameServer(address) })) };
  }
  const notes: string[] = [];
  const ns = await resolver.lookup(zone, 'NS');
  if (ns.outcome !== 'answer') {
    notes.push(`the NS records of ${zone} could not be read (${ns.outcome === 'failed' ? ns.errors.join('; ') || 'no answer' : ns.outcome})`);
    return { source: 'ns', notes, servers: [] };
  }
  const names = [...new Set(ns.records.map((record) => normalizeName(String(record.data))))].sort();
  const servers: AuthServer[] = [];
  for (const nsName of names) {
    const [v4, v6] = await Promise.all([resolver.lookup(nsName, 'A'), resolver.lookup(nsName, 'AAAA')]);
    const found = [...addresses(v4), ...addresses(v6)];
    if (found.length === 0) {
      notes.push(`${nsName} has no address`);
      servers.push({ nsName, address: null, label: nsName });
    }
    for (const host of found) {
      const address = { host, port: DEFAULT_PORT };
      servers.push({ nsName, address, label: `${nsName} (${formatNameServer(address)})` });
    }
  }
  return { source: 'ns', notes, servers };
}

/** RFC 1982 serial arithmetic: is `a` newer than `b`? */
export function serialNewer(a: number, b: number): boolean {
  return a !== b && ((a > b && a - b < 2 ** 31) || (a < b && b - a > 2 ** 31));
}
