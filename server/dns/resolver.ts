// Lookups on top of the transport: a list of servers tried in order, CNAME chains followed,
// negative answers kept with their RFC 2308 TTL, and one answer per (name, type) per diagnosis.
// nodeStyleResolver() gives mailauth the dns.promises.resolve() shapes and error codes it expects.
import { CutoverError } from '../errors.ts';
import { normalizeName } from './names.ts';
import { failureKind, formatNameServer, query, type FailureKind, type NameServer, type QueryOptions, type RecordType } from './transport.ts';
import type { MxData, SoaData, SrvData, WireRecord } from './wire.ts';

export type Outcome = 'answer' | 'nxdomain' | 'nodata' | 'failed';
export type Failure = FailureKind | 'refused' | 'servfail';

export interface NegativeSoa { zone: string; ttl: number; data: SoaData }

export interface LookupResult {
  name: string;
  type: string;
  outcome: Outcome;
  /** Records of the requested type at the end of the CNAME chain. */
  records: WireRecord[];
  /** CNAME targets followed, in order. */
  chain: string[];
  /** Smallest TTL of the records (a cache's remaining TTL). */
  ttl: number | null;
  /** RFC 2308 §5: how long a negative answer may be cached, min(SOA TTL, SOA MINIMUM). */
  negativeTtl: number | null;
  /** SOA of the authority section of a negative answer: names the zone the name falls in. */
  soa: NegativeSoa | null;
  authoritative: boolean;
  server: string | null;
  failure: Failure | null;
  /** Why servers were skipped or the lookup failed. */
  errors: string[];
}

export interface Lookup {
  lookup(name: string, type: string): Promise<LookupResult>;
}

const MAX_CHAIN = 8;
/** Rcodes that are a real answer; anything else sends the question to the next server. */
const ANSWER_RCODES = new Set(['NOERROR', 'NXDOMAIN']);

function emptyResult(name: string, type: string): LookupResult {
  return { name, type, outcome: 'failed', records: [], chain: [], ttl: null, negativeTtl: null, soa: null, authoritative: false, server: null, failure: null, errors: [] };
}

function minTtl(records: WireRecord[]): number | null {
  return records.length === 0 ? null : Math.min(...records.map((record) => record.ttl));
}

/** Asks its servers in order; the first real answer wins, one that fails is skipped, not believed. */
export class ServerResolver implements Lookup {
  private readonly cache = new Map<string, Promise<LookupResult>>();
  /** Servers in the order to try: one that timed out goes last, so a dead resolver costs one timeout, not one per name. */
  private order: NameServer[];

  constructor(readonly servers: NameServer[], readonly options: QueryOptions = {}) {
    this.order = [...servers];
  }

  describe(): string {
    return this.servers.map(formatNameServer).join(', ');
  }

  lookup(name: string, type: string): Promise<LookupResult> {
    const key = `${normalizeName(name)}|${type.toUpperCase()}`;
    let pending = this.cache.get(key);
    if (!pending) {
      pending = this.ask(normalizeName(name), type.toUpperCase());
      this.cache.set(key, pending);
    }
    return pending;
  }

  private async ask(name: string, type: string): Promise<LookupResult> {
    const result = emptyResult(name, type);
    let refused = false;
    let servfail = false;
    let lastKind: FailureKind | null = null;
    for (const server of [...this.order]) {
      try {
        const response = await query(server, name, type as RecordType, this.options);
        if (!ANSWER_RCODES.has(response.rcode)) {
          refused ||= response.rcode === 'REFUSED';
          servfail ||= response.rcode !== 'REFUSED';
          result.errors.push(`${response.server} answered ${response.rcode} for ${name} ${type}`);
          continue;
        }
        if (this.options.recursionDesired === false && !response.authoritative && response.answers.length === 0) {
          // Asked directly, a server that is not authoritative for the name refers us elsewhere (a
          // delegated subzone): no answer about the name, so the caller falls back to its resolvers.
          result.errors.push(`${response.server} is not authoritative for ${name} (referral)`);
          continue;
        }
        return { ...interpret(name, type, response.rcode, response.answers, response.authorities), authoritative: response.authoritative, server: response.server, errors: result.errors };
      } catch (err) {
        const kind = failureKind(err);
        if (kind === 'input') return { ...result, failure: 'input', errors: [...result.errors, (err as Error).message] };
        lastKind = kind ?? 'unreachable';
        result.errors.push(err instanceof Error ? err.message : String(err));
        this.order = [...this.order.filter((s) => s !== server), server];
      }
    }
    result.failure = refused ? 'refused' : servfail ? 'servfail' : lastKind ?? 'unreachable';
    return result;
  }
}

/** Reads one response: the CNAME chain inside the answer, then the records at its end. */
function interpret(name: string, type: string, rcode: string, answers: WireRecord[], authorities: WireRecord[]): Omit<LookupResult, 'authoritative' | 'server' | 'errors'> {
  const chain: string[] = [];
  let owner = name;
  for (let hops = 0; hops < MAX_CHAIN && type !== 'CNAME'; hops++) {
    const alias = answers.find((record) => record.type === 'CNAME' && normalizeName(record.name) === owner);
    if (!alias || typeof alias.data !== 'string') break;
    owner = normalizeName(alias.data);
    chain.push(owner);
  }
  const records = answers.filter((record) => record.type === type && normalizeName(record.name) === owner);
  const soaRecord = authorities.find((record) => record.type === 'SOA');
  const soa = soaRecord && soaRecord.data && typeof soaRecord.data === 'object' && 'serial' in soaRecord.data
    ? { zone: normalizeName(soaRecord.name), ttl: soaRecord.ttl, data: soaRecord.data }
    : null;
  const negativeTtl = soa ? Math.min(soa.ttl, soa.data.minimum) : null;
  // NXDOMAIN after a CNAME is about the target; NOERROR without records at the end is NODATA,
  // unless the chain simply leaves this server's data (then the caller follows it elsewhere).
  const outcome: Outcome = records.length > 0 ? 'answer' : rcode === 'NXDOMAIN' ? 'nxdomain' : 'nodata';
  return { name, type, outcome, records, chain, ttl: minTtl(records), negativeTtl: outcome === 'answer' ? null : negativeTtl, soa, failure: null };
}

/**
 * Sends each name to the resolver that should know it (a zone's own authoritative server for
 * its names, the recursive resolvers for the rest) and follows a CNAME chain that leaves one for
 * the other, as a CNAME from the zone to a DKIM provider does.
 */
export class RoutingResolver implements Lookup {
  constructor(private readonly route: (name: string) => Lookup, private readonly fallback?: Lookup) {}

  private async ask(name: string, type: string): Promise<LookupResult> {
    const routed = this.route(name);
    const result = await routed.lookup(name, type);
    if (result.outcome !== 'failed' || !this.fallback || routed === this.fallback) return result;
    const second = await this.fallback.lookup(name, type);
    return { ...second, errors: [...result.errors, ...second.errors] };
  }

  async lookup(name: string, type: string): Promise<LookupResult> {
    let result = await this.ask(name, type);
    const chain = [...result.chain];
    const errors = [...result.errors];
    while (type.toUpperCase() !== 'CNAME' && result.outcome === 'nodata' && result.chain.length > 0 && chain.length < MAX_CHAIN) {
      const target = result.chain[result.chain.length - 1]!;
      const next = await this.ask(target, type);
      if (next.name === result.name) break;
      chain.push(...next.chain);
      errors.push(...next.errors);
      result = next;
    }
    return { ...result, name: normalizeName(name), chain, errors };
  }
}

// ---- mailauth adapter ------------------------------------------------------------------------

const NODE_CODES: Record<Exclude<Outcome, 'answer'> | Failure, string> = {
  nxdomain: 'ENOTFOUND', nodata: 'ENODATA', failed: 'ETIMEOUT', timeout: 'ETIMEOUT', unreachable: 'ECONNREFUSED',
  // A name that cannot be encoded (a label over 63 bytes) cannot exist: "no such name", as Node says.
  malformed: 'EBADRESP', tcp: 'ECONNREFUSED', input: 'ENOTFOUND', refused: 'EREFUSED', servfail: 'ESERVFAIL',
};

function nodeError(result: LookupResult): Error & { code: string } {
  const key = result.outcome === 'failed' ? result.failure ?? 'failed' : result.outcome;
  const code = NODE_CODES[key as keyof typeof NODE_CODES] ?? 'ETIMEOUT';
  const err = new Error(`query${result.type} ${code} ${result.name}${result.errors.length ? ` (${result.errors.join('; ')})` : ''}`) as Error & { code: string; hostname: string };
  err.code = code;
  err.hostname = result.name;
  return err;
}

/** Node spells the root name '' (a null MX is `{ exchange: '', priority: 0 }`). */
const nodeName = (name: string) => (name === '.' ? '' : name);

function nodeShape(record: WireRecord): unknown {
  switch (record.type) {
    case 'MX': {
      const mx = record.data as MxData;
      return { exchange: nodeName(mx.exchange), priority: mx.preference };
    }
    case 'TXT':
      return (record.data as Buffer[]).map((part) => part.toString('utf8'));
    case 'SRV': {
      const srv = record.data as SrvData;
      return { name: nodeName(srv.target), port: srv.port, priority: srv.priority, weight: srv.weight };
    }
    case 'SOA': {
      const soa = record.data as SoaData;
      return { nsname: soa.mname, hostmaster: soa.rname, serial: soa.serial, refresh: soa.refresh, retry: soa.retry, expire: soa.expire, minttl: soa.minimum };
    }
    case 'CNAME':
    case 'PTR':
    case 'NS':
      return nodeName(String(record.data));
    default:
      return record.data;
  }
}

/**
 * `dns.promises.resolve(name, rrtype)` over our transport: the same result shapes, and the
 * error codes SPF evaluators key on (ENOTFOUND and ENODATA are void lookups, ETIMEOUT a temperror).
 */
export function nodeStyleResolver(resolver: Lookup): (name: string, rrtype: string) => Promise<unknown[]> {
  return async (name, rrtype) => {
    let result: LookupResult;
    try {
      result = await resolver.lookup(name, rrtype);
    } catch (err) {
      const wrapped = new Error(err instanceof CutoverError ? err.message : String(err)) as Error & { code: string };
      wrapped.code = 'EBADNAME';
      throw wrapped;
    }
    if (result.outcome !== 'answer') throw nodeError(result);
    return result.records.map(nodeShape);
  };
}
