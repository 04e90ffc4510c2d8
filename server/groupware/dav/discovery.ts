// Where an account's calendars and address books live (RFC 6764): the given URL first, then
// /.well-known/caldav and /.well-known/carddav on its server, each followed to
// current-user-principal → calendar-home-set / addressbook-home-set. Without a URL, the domain's
// _caldavs._tcp / _carddavs._tcp SRV records (and their TXT path) name the server.
import { CutoverError } from '../../errors.ts';
import type { Lookup } from '../../dns/resolver.ts';
import type { SrvData } from '../../dns/wire.ts';
import type { DavClient, DavHomes } from './client.ts';

const WELL_KNOWN = ['/.well-known/caldav', '/.well-known/carddav'];

function complete(homes: DavHomes): boolean {
  return Boolean(homes.calendarHome && homes.addressbookHome);
}

/**
 * An admin acting for an account starts at the account's principal: current-user-principal would
 * name the admin, whose homes are not the account's.
 */
function startingPoints(client: DavClient): string[] {
  const { actAs } = client.session.endpoint;
  if (actAs) return [client.session.resolve(actAs.principal)?.pathname ?? actAs.principal];
  return [client.session.base.pathname, ...WELL_KNOWN];
}

const missing = (err: unknown) => err instanceof CutoverError && err.code === 'DAV_FAILED' && /^404\b/.test(String(err.params.detail));

export interface DiscoverOptions {
  /**
   * The destination, where an admin acts for an account that never logged in: its principal is
   * created (Radicale makes it only at the account's own first login). On a source such an
   * account simply has nothing to copy, and nothing is written there.
   */
  createPrincipal?: boolean;
}

export async function discoverHomes(client: DavClient, opts: DiscoverOptions = {}): Promise<DavHomes> {
  const homes: DavHomes = {};
  const tried: string[] = [];
  const { actAs } = client.session.endpoint;
  for (const start of startingPoints(client)) {
    let found: DavHomes;
    try {
      found = await client.homesAt(start).catch(async (err) => {
        if (!actAs || !missing(err)) throw err;
        if (!opts.createPrincipal) return { principal: start };
        await client.createPlain(start);
        return client.homesAt(start);
      });
      if (actAs && !found.calendarHome && !found.addressbookHome && found.principal === start) return found;
    } catch (err) {
      // A login refused or a server down is an answer; a 404 or a non-DAV page is not.
      if (err instanceof CutoverError && (err.code === 'AUTH_FAILED' || err.code === 'HOST_UNREACHABLE' || err.code === 'TLS_FAILED')) throw err;
      tried.push(`${start}: ${err instanceof Error ? err.message : String(err)}`);
      continue;
    }
    homes.principal ??= found.principal;
    homes.calendarHome ??= found.calendarHome;
    homes.addressbookHome ??= found.addressbookHome;
    if (complete(homes)) break;
    if (!found.calendarHome && !found.addressbookHome) tried.push(`${start}: no calendar or address book home`);
  }
  if (!homes.calendarHome && !homes.addressbookHome) {
    throw new CutoverError('DAV_NOT_FOUND', { who: `${client.session.account} at ${client.host}`, detail: tried.join('; ').slice(0, 600) });
  }
  return homes;
}

function bestSrv(records: SrvData[]): SrvData | undefined {
  return [...records].filter((r) => r.target !== '.' && r.target !== '').sort((a, b) => a.priority - b.priority || b.weight - a.weight)[0];
}

/** A base URL for the domain's DAV service from its SRV records (TLS services only), or undefined. */
export async function davUrlFromDns(domain: string, lookup: Lookup): Promise<string | undefined> {
  for (const service of ['_caldavs._tcp', '_carddavs._tcp']) {
    const name = `${service}.${domain}`;
    const srv = await lookup.lookup(name, 'SRV');
    const target = bestSrv(srv.records.map((r) => r.data as SrvData).filter((d) => d && typeof d === 'object' && 'target' in d));
    if (!target) continue;
    const txt = await lookup.lookup(name, 'TXT');
    const path = txt.records.flatMap((r) => (Array.isArray(r.data) ? r.data : [r.data])).map((d) => Buffer.isBuffer(d) ? d.toString('utf8') : String(d))
      .map((t) => /^path=(\/[^\s]*)$/.exec(t)?.[1]).find(Boolean);
    const host = target.target.replace(/\.$/, '');
    return `https://${host}${target.port === 443 ? '' : `:${target.port}`}${path ?? '/'}`;
  }
  return undefined;
}
