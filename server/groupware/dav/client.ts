// What the groupware copy asks of a CalDAV/CardDAV server: its collections, each collection's
// resources (href + ETag), one resource's bytes, and conditional PUT/DELETE. Resource bodies go
// through GET and PUT only: a multiget REPORT would carry them inside XML, whose parsers turn CRLF
// into LF, and the copy must stay byte for byte.
import { CutoverError } from '../../errors.ts';
import { BodyTooLarge, DavSession, serverWords, type DavReply } from './http.ts';
import { APPLE_ICAL_NS, CALDAV_NS, CARDDAV_NS, DAV_NS, child, escapeXml, qname, type DavResponse } from './xml.ts';

export type CollectionKind = 'calendar' | 'addressbook';

export interface DavCollection {
  href: string;
  kind: CollectionKind;
  displayName?: string;
  color?: string;
  description?: string;
  /** For calendars: the components it takes (VEVENT, VTODO…); empty when the server does not say. */
  components: string[];
}

export interface DavItemRef { href: string; etag: string; contentType?: string }

export interface DavHomes { principal?: string; calendarHome?: string; addressbookHome?: string }

export type PutOutcome =
  | { ok: true; etag?: string }
  | { ok: false; status: number; words: string };

const PROPFIND_HOMES = `<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="DAV:" xmlns:c="${CALDAV_NS}" xmlns:a="${CARDDAV_NS}"><d:prop><d:current-user-principal/><c:calendar-home-set/><a:addressbook-home-set/></d:prop></d:propfind>`;

const PROPFIND_COLLECTIONS = `<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="DAV:" xmlns:c="${CALDAV_NS}" xmlns:a="${CARDDAV_NS}" xmlns:i="${APPLE_ICAL_NS}"><d:prop><d:resourcetype/><d:displayname/><i:calendar-color/><c:calendar-description/><a:addressbook-description/><c:supported-calendar-component-set/></d:prop></d:propfind>`;

const PROPFIND_ITEMS = `<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="DAV:"><d:prop><d:resourcetype/><d:getetag/><d:getcontenttype/></d:prop></d:propfind>`;

const PROPFIND_ETAG = `<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="DAV:"><d:prop><d:getetag/></d:prop></d:propfind>`;

const MAX_PROP_CHARS = 1000;

function hrefIn(response: DavResponse, ns: string, local: string): string | undefined {
  return child(response.props.get(qname(ns, local)), DAV_NS, 'href')?.text || undefined;
}

function shortText(node: { text: string } | undefined): string | undefined {
  const text = node?.text;
  return text ? text.slice(0, MAX_PROP_CHARS) : undefined;
}

function resourceTypes(response: DavResponse): Set<string> {
  return new Set(response.props.get(qname(DAV_NS, 'resourcetype'))?.children.map((c) => c.name) ?? []);
}

export class DavClient {
  constructor(readonly session: DavSession) {}

  get host(): string { return this.session.host; }

  /** The path of a server href, or null when the href is unreadable or on another server. */
  private path(href: string, from?: URL): string | null {
    const url = this.session.resolve(href, from);
    return url ? url.pathname : null;
  }

  /** current-user-principal → calendar-home-set / addressbook-home-set, from `start` (RFC 6764 §6). */
  async homesAt(start: string): Promise<DavHomes> {
    const homes: DavHomes = {};
    let principal: string | undefined;
    for await (const { url, response } of this.session.multistatus('PROPFIND', start, PROPFIND_HOMES, '0')) {
      const cal = hrefIn(response, CALDAV_NS, 'calendar-home-set');
      const card = hrefIn(response, CARDDAV_NS, 'addressbook-home-set');
      const p = hrefIn(response, DAV_NS, 'current-user-principal');
      if (cal) homes.calendarHome = this.path(cal, url) ?? undefined;
      if (card) homes.addressbookHome = this.path(card, url) ?? undefined;
      if (p) principal = this.path(p, url) ?? undefined;
    }
    if (principal) homes.principal = principal;
    if ((!homes.calendarHome || !homes.addressbookHome) && principal && principal !== start) {
      const more = await this.homesAt(principal).catch(() => ({} as DavHomes));
      homes.calendarHome ??= more.calendarHome;
      homes.addressbookHome ??= more.addressbookHome;
    }
    return homes;
  }

  /** Calendars and address books under the home sets (one PROPFIND when both homes are the same, as on Radicale). */
  async collections(homes: DavHomes): Promise<DavCollection[]> {
    const found = new Map<string, DavCollection>();
    for (const home of new Set([homes.calendarHome, homes.addressbookHome].filter((h): h is string => Boolean(h)))) {
      for await (const { url, response } of this.session.multistatus('PROPFIND', home, PROPFIND_COLLECTIONS, '1')) {
        const href = this.path(response.href, url);
        if (!href || found.has(href)) continue;
        const types = resourceTypes(response);
        const kind: CollectionKind | undefined = types.has(qname(CALDAV_NS, 'calendar')) ? 'calendar' : types.has(qname(CARDDAV_NS, 'addressbook')) ? 'addressbook' : undefined;
        if (!kind) continue;
        const components = (response.props.get(qname(CALDAV_NS, 'supported-calendar-component-set'))?.children ?? [])
          .map((c) => (c.attrs?.name ?? '').toUpperCase()).filter(Boolean);
        found.set(href, {
          href, kind, components,
          displayName: shortText(response.props.get(qname(DAV_NS, 'displayname'))),
          color: shortText(response.props.get(qname(APPLE_ICAL_NS, 'calendar-color'))),
          description: shortText(response.props.get(qname(kind === 'calendar' ? CALDAV_NS : CARDDAV_NS, kind === 'calendar' ? 'calendar-description' : 'addressbook-description'))),
        });
      }
    }
    return [...found.values()].sort((a, b) => a.href.localeCompare(b.href));
  }

  /** The resources of a collection, streamed as the server sends them. */
  async *items(collectionHref: string): AsyncGenerator<DavItemRef> {
    for await (const { url, response } of this.session.multistatus('PROPFIND', collectionHref, PROPFIND_ITEMS, '1')) {
      const href = this.path(response.href, url);
      if (!href || href === collectionHref || href.endsWith('/')) continue;
      if (resourceTypes(response).has(qname(DAV_NS, 'collection'))) continue;
      const etag = response.props.get(qname(DAV_NS, 'getetag'))?.text;
      if (!etag) throw new CutoverError('DAV_REPLY_INVALID', { where: `PROPFIND ${url.href}`, detail: `no ETag for ${href.slice(0, 200)}` });
      yield { href, etag: etag.slice(0, MAX_PROP_CHARS), contentType: shortText(response.props.get(qname(DAV_NS, 'getcontenttype'))) };
    }
  }

  async get(href: string, maxBytes: number): Promise<{ data: Buffer; etag?: string } | { tooLarge: true } | { missing: true }> {
    let reply: DavReply;
    try {
      reply = await this.session.request('GET', href, { maxBytes });
    } catch (err) {
      if (err instanceof BodyTooLarge) return { tooLarge: true };
      throw err;
    }
    if (reply.status === 404 || reply.status === 410) return { missing: true };
    if (reply.status !== 200) throw new CutoverError('DAV_FAILED', { method: 'GET', url: href, detail: serverWords(reply) }, { retryable: reply.status >= 500 });
    return { data: reply.body, ...(typeof reply.headers.etag === 'string' && { etag: reply.headers.etag }) };
  }

  async etag(href: string): Promise<string | undefined> {
    for await (const { response } of this.session.multistatus('PROPFIND', href, PROPFIND_ETAG, '0')) {
      const etag = response.props.get(qname(DAV_NS, 'getetag'))?.text;
      if (etag) return etag.slice(0, MAX_PROP_CHARS);
    }
    return undefined;
  }

  /** A conditional PUT: `ifNoneMatch` creates only, `ifMatch` replaces only that version. */
  async put(href: string, data: Buffer, contentType: string, condition: { ifNoneMatch: true } | { ifMatch: string }): Promise<PutOutcome> {
    const headers: Record<string, string> = { 'content-type': contentType };
    if ('ifMatch' in condition) headers['if-match'] = condition.ifMatch;
    else headers['if-none-match'] = '*';
    const reply = await this.session.request('PUT', href, { body: data, headers, maxBytes: 64 * 1024 });
    if (reply.status >= 200 && reply.status < 300) {
      return { ok: true, ...(typeof reply.headers.etag === 'string' && { etag: reply.headers.etag }) };
    }
    if (reply.status >= 500 && reply.status !== 507) throw new CutoverError('DAV_FAILED', { method: 'PUT', url: href, detail: serverWords(reply) }, { retryable: true });
    return { ok: false, status: reply.status, words: serverWords(reply) };
  }

  /** DELETE of one version: true when gone (also when already gone), false when it changed meanwhile. */
  async delete(href: string, ifMatch: string): Promise<boolean> {
    const reply = await this.session.request('DELETE', href, { headers: { 'if-match': ifMatch } });
    if (reply.status === 412) return false;
    if ((reply.status >= 200 && reply.status < 300) || reply.status === 404) return true;
    throw new CutoverError('DAV_FAILED', { method: 'DELETE', url: href, detail: serverWords(reply) }, { retryable: reply.status >= 500 });
  }

  /**
   * MKCALENDAR (RFC 4791) or extended MKCOL (RFC 5689) with the source's name, colour and
   * description. Returns false when something already exists at `href`.
   */
  async createCollection(href: string, like: DavCollection): Promise<boolean> {
    const props = [
      like.displayName && `<d:displayname>${escapeXml(like.displayName)}</d:displayname>`,
      like.color && like.kind === 'calendar' && `<i:calendar-color>${escapeXml(like.color)}</i:calendar-color>`,
      like.description && (like.kind === 'calendar'
        ? `<c:calendar-description>${escapeXml(like.description)}</c:calendar-description>`
        : `<a:addressbook-description>${escapeXml(like.description)}</a:addressbook-description>`),
      like.kind === 'calendar' && like.components.length > 0 &&
        `<c:supported-calendar-component-set>${like.components.map((c) => `<c:comp name="${escapeXml(c)}"/>`).join('')}</c:supported-calendar-component-set>`,
    ].filter(Boolean).join('');
    const ns = `xmlns:d="DAV:" xmlns:c="${CALDAV_NS}" xmlns:a="${CARDDAV_NS}" xmlns:i="${APPLE_ICAL_NS}"`;
    const [method, body] = like.kind === 'calendar'
      ? ['MKCALENDAR', `<?xml version="1.0" encoding="utf-8"?>\n<c:mkcalendar ${ns}><d:set><d:prop>${props}</d:prop></d:set></c:mkcalendar>`]
      : ['MKCOL', `<?xml version="1.0" encoding="utf-8"?>\n<d:mkcol ${ns}><d:set><d:prop><d:resourcetype><d:collection/><a:addressbook/></d:resourcetype>${props}</d:prop></d:set></d:mkcol>`];
    const reply = await this.session.request(method, href, { body, headers: { 'content-type': 'application/xml; charset=utf-8' } });
    if (reply.status === 201 || reply.status === 200) {
      // Some servers (Xandikos) create the collection but ignore the properties sent with it.
      if (props) await this.session.request('PROPPATCH', href, { body: `<?xml version="1.0" encoding="utf-8"?>\n<d:propertyupdate ${ns}><d:set><d:prop>${props.replace(/<c:supported-calendar-component-set>.*<\/c:supported-calendar-component-set>/, '')}</d:prop></d:set></d:propertyupdate>`, headers: { 'content-type': 'application/xml; charset=utf-8' } });
      return true;
    }
    // Something is there already: 405 (RFC 4791), or a 207/403 "resource-must-be-null" (Xandikos).
    if (await this.isCollection(href, like.kind)) return false;
    throw new CutoverError('DAV_FAILED', { method, url: href, detail: serverWords(reply) }, { retryable: reply.status >= 500 });
  }

  /** A plain collection (MKCOL), e.g. an account's principal; an existing one is fine. */
  async createPlain(href: string): Promise<void> {
    const reply = await this.session.request('MKCOL', href);
    if (reply.status === 201 || reply.status === 200 || reply.status === 405) return;
    throw new CutoverError('DAV_FAILED', { method: 'MKCOL', url: href, detail: serverWords(reply) }, { retryable: reply.status >= 500 });
  }

  async isCollection(href: string, kind: CollectionKind): Promise<boolean> {
    const wanted = kind === 'calendar' ? qname(CALDAV_NS, 'calendar') : qname(CARDDAV_NS, 'addressbook');
    try {
      for await (const { response } of this.session.multistatus('PROPFIND', href, PROPFIND_ITEMS, '0')) {
        if (resourceTypes(response).has(wanted)) return true;
      }
    } catch (err) {
      if (err instanceof CutoverError && err.code === 'DAV_FAILED') return false;
      throw err;
    }
    return false;
  }
}
