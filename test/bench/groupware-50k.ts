// Bench: one calendar of 50,000 events copied by the DAV copy (listing streamed, GET + PUT per
// event, 4 in flight). The source streams its multistatus as the copy reads it, the destination
// acknowledges each PUT: what is measured is the copy's own time and memory.
// Run: node --import tsx test/bench/groupware-50k.ts [events]
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DavClient } from '../../server/groupware/dav/client.ts';
import { copyDav } from '../../server/groupware/dav/copy.ts';
import { discoverHomes } from '../../server/groupware/dav/discovery.ts';
import { DavSession } from '../../server/groupware/dav/http.ts';
import { openGroupwareState } from '../../server/groupware/state.ts';

const EVENTS = Number(process.argv[2] ?? 50_000);
const HOMES = (base: string) => `<d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:response><d:href>${base}</d:href><d:propstat><d:prop><d:current-user-principal><d:href>/u/</d:href></d:current-user-principal><c:calendar-home-set><d:href>/u/</d:href></c:calendar-home-set></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>`;
const event = (i: number) => `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\nBEGIN:VEVENT\r\nUID:bench-${i}@cutover.test\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:2026${String(1 + (i % 12)).padStart(2, '0')}01T090000Z\r\nDURATION:PT1H\r\nSUMMARY:Event ${i} — réunion\r\nDESCRIPTION:${'x'.repeat(300)}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n`;

function listen(handler: http.RequestListener): Promise<{ server: http.Server; url: string }> {
  const server = http.createServer(handler);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/u/` })));
}

async function writeAll(res: http.ServerResponse, text: string): Promise<void> {
  if (!res.write(text)) await new Promise((resolve) => res.once('drain', resolve));
}

const source = await listen(async (req, res) => {
  req.resume();
  const depth = req.headers.depth;
  if (req.method === 'PROPFIND' && req.url === '/u/' && depth === '0') return res.writeHead(207).end(HOMES('/u/'));
  if (req.method === 'PROPFIND' && req.url === '/u/' && depth === '1') {
    return res.writeHead(207).end('<d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:response><d:href>/u/big/</d:href><d:propstat><d:prop><d:resourcetype><d:collection/><c:calendar/></d:resourcetype><d:displayname>Big</d:displayname><c:supported-calendar-component-set><c:comp name="VEVENT"/></c:supported-calendar-component-set></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>');
  }
  if (req.method === 'PROPFIND' && req.url === '/u/big/') {
    res.writeHead(207);
    await writeAll(res, '<d:multistatus xmlns:d="DAV:">');
    for (let i = 0; i < EVENTS; i++) await writeAll(res, `<d:response><d:href>/u/big/${i}.ics</d:href><d:propstat><d:prop><d:resourcetype/><d:getetag>"v1-${i}"</d:getetag><d:getcontenttype>text/calendar; charset=utf-8</d:getcontenttype></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>`);
    return res.end('</d:multistatus>');
  }
  const item = /^\/u\/big\/(\d+)\.ics$/.exec(req.url ?? '');
  if (req.method === 'GET' && item) return res.writeHead(200, { etag: `"v1-${item[1]}"`, 'content-type': 'text/calendar' }).end(event(Number(item[1])));
  res.writeHead(404).end();
});

let puts = 0;
let putBytes = 0;
const dest = await listen((req, res) => {
  let size = 0;
  req.on('data', (c: Buffer) => { size += c.length; });
  req.on('end', () => {
    if (req.method === 'PROPFIND') return res.writeHead(207).end(HOMES(req.url ?? '/u/'));
    if (req.method === 'MKCALENDAR') return res.writeHead(201).end();
    if (req.method === 'PROPPATCH') return res.writeHead(207).end('<d:multistatus xmlns:d="DAV:"/>');
    if (req.method === 'PUT') { puts++; putBytes += size; return res.writeHead(201, { etag: `"d-${puts}"` }).end(); }
    res.writeHead(405).end();
  });
});

const state = await openGroupwareState();
const sourceClient = new DavClient(new DavSession({ url: source.url, tlsVerify: true, auth: { user: 'u', pass: 'p' } }));
const destClient = new DavClient(new DavSession({ url: dest.url, tlsVerify: true, auth: { user: 'u', pass: 'p' } }));
let peak = process.memoryUsage().rss;
const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 50);
const started = Date.now();
const [report] = await copyDav({ source: sourceClient, sourceHomes: await discoverHomes(sourceClient), dest: destClient, destHomes: await discoverHomes(destClient), ledger: state.ledger, pass: 1, kinds: new Set(['calendar']) });
const seconds = (Date.now() - started) / 1000;
const rerunStart = Date.now();
const [again] = await copyDav({ source: sourceClient, sourceHomes: await discoverHomes(sourceClient), dest: destClient, destHomes: await discoverHomes(destClient), ledger: state.ledger, pass: 2, kinds: new Set(['calendar']) });
const rerunSeconds = (Date.now() - rerunStart) / 1000;
clearInterval(sampler);
peak = Math.max(peak, process.memoryUsage().rss);
console.log(JSON.stringify({
  events: EVENTS, copied: report!.copied, skipped: report!.skipped, puts, megabytesPut: +(putBytes / 1e6).toFixed(1), seconds: +seconds.toFixed(1), eventsPerSecond: Math.round(report!.copied / seconds),
  rerun: { unchanged: again!.unchanged, copied: again!.copied, seconds: +rerunSeconds.toFixed(1) }, peakRssMB: Math.round(peak / 1e6), maxRssMB: Math.round(process.resourceUsage().maxRSS / 1e3),
}));
sourceClient.session.close();
destClient.session.close();
await state.close();
source.server.close();
dest.server.close();
