// The multistatus reader against what servers send: Radicale's default namespace, Xandikos's
// ns0: prefixes, chunks split anywhere, and hostile bodies (truncated, not XML, huge, too deep).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MultistatusReader, parseMultistatus, qname, DAV_NS } from '../../server/groupware/dav/xml.ts';

const RADICALE = `<?xml version='1.0' encoding='utf-8'?>
<multistatus xmlns="DAV:"><response><href>/alice/work/a.ics</href><propstat><prop><getetag>"e1"</getetag></prop><status>HTTP/1.1 200 OK</status></propstat><propstat><prop><displayname /></prop><status>HTTP/1.1 404 Not Found</status></propstat></response><response><href>/alice/work/b%20c.ics</href><propstat><prop><getetag>"e2"</getetag></prop><status>HTTP/1.1 200 OK</status></propstat></response></multistatus>`;

const XANDIKOS = `<ns0:multistatus xmlns:ns0="DAV:" xmlns:ns1="urn:ietf:params:xml:ns:caldav"><ns0:response><ns0:href>/u/calendars/</ns0:href><ns0:propstat><ns0:status>HTTP/1.1 200 OK</ns0:status><ns0:prop><ns0:resourcetype><ns0:collection /><ns1:calendar /></ns0:resourcetype><ns1:supported-calendar-component-set><ns1:comp name="VTODO"/></ns1:supported-calendar-component-set></ns0:prop></ns0:propstat></ns0:response></ns0:multistatus>`;

test('reads both servers\' styles; 404 propstats are not properties', () => {
  const r = parseMultistatus(RADICALE, 'test');
  assert.deepEqual(r.map((x) => [x.href, x.props.get(qname(DAV_NS, 'getetag'))?.text]), [['/alice/work/a.ics', '"e1"'], ['/alice/work/b%20c.ics', '"e2"']]);
  assert.equal(r[0]!.props.has(qname(DAV_NS, 'displayname')), false);
  const [x] = parseMultistatus(XANDIKOS, 'test');
  const comps = x!.props.get(qname('urn:ietf:params:xml:ns:caldav', 'supported-calendar-component-set'))!.children;
  assert.deepEqual(comps.map((c) => c.attrs?.name), ['VTODO']);
});

test('gives each response as soon as it closes, whatever the chunking', () => {
  for (const size of [1, 7, 64]) {
    const reader = new MultistatusReader('test');
    const seen: string[] = [];
    for (let i = 0; i < RADICALE.length; i += size) {
      reader.write(RADICALE.slice(i, i + size));
      seen.push(...reader.drain().map((r) => r.href));
    }
    reader.close();
    seen.push(...reader.drain().map((r) => r.href));
    assert.deepEqual(seen, ['/alice/work/a.ics', '/alice/work/b%20c.ics']);
  }
});

test('hostile bodies are DAV_REPLY_INVALID with the reason', () => {
  const invalid = (body: string, pattern: RegExp) => assert.throws(() => parseMultistatus(body, 'PROPFIND http://x/'), (err: Error & { code?: string }) => err.code === 'DAV_REPLY_INVALID' && pattern.test(err.message));
  invalid(RADICALE.slice(0, 200), /PROPFIND http:\/\/x\/.*(unclosed|end)/i);
  invalid('<html><body>Login</body></html>', /not a DAV: multistatus/);
  invalid('', /root element|empty body/);
  invalid('<d:multistatus xmlns:d="DAV:"><d:response><d:propstat></d:propstat></d:response></d:multistatus>', /without <href>/);
  invalid(`<d:multistatus xmlns:d="DAV:"><d:response><d:href>${'x'.repeat(300_000)}</d:href></d:response></d:multistatus>`, /longer than/);
  invalid(`<d:multistatus xmlns:d="DAV:"><d:response>${'<d:a>'.repeat(40)}</d:response></d:multistatus>`, /nested deeper/);
  invalid(`<d:multistatus xmlns:d="DAV:"><d:response><d:href>/</d:href>${'<d:a/>'.repeat(3000)}</d:response></d:multistatus>`, /more than 2000 elements/);
});
