// Contacts, calendars and tasks between two DAV servers nobody here wrote: Radicale → Xandikos and
// Xandikos → Radicale, with a re-run, a delta (an edit and a deletion), a crash between PUT and
// the ledger write, and the corpus of test/groupware/corpus.ts (including the PST-derived samples).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startRadicale, type RadicaleInstance } from '../../server/devservers/radicale.ts';
import { startXandikos, type XandikosInstance } from '../../server/devservers/xandikos.ts';
import { DavClient, type DavHomes } from '../../server/groupware/dav/client.ts';
import { copyDav } from '../../server/groupware/dav/copy.ts';
import { discoverHomes } from '../../server/groupware/dav/discovery.ts';
import { DavSession } from '../../server/groupware/dav/http.ts';
import type { CollectionReport, GroupwareKind } from '../../server/groupware/ledger.ts';
import { openGroupwareState } from '../../server/groupware/state.ts';
import { RECURRING_UID, loadCorpus, type LoadedCorpus } from './corpus.ts';

const ALL: ReadonlySet<GroupwareKind> = new Set(['addressbook', 'calendar', 'tasks']);

function client(url: string, user: string, pass: string): DavClient {
  return new DavClient(new DavSession({ url, tlsVerify: true, auth: { user, pass } }));
}

async function contents(c: DavClient, homes: DavHomes): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const collection of await c.collections(homes)) {
    for await (const item of c.items(collection.href)) {
      const got = await c.get(item.href, 10_000_000);
      if ('data' in got) out.set(item.href, got.data);
    }
  }
  return out;
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Both servers re-serialise what they store (property order, line folding): compared as unfolded content lines. */
function contentLines(data: Buffer): string[] {
  const rrule = (line: string) => line.replace(/^(RRULE:)(.*)$/, (_, name: string, parts: string) => name + parts.split(';').sort().join(';'));
  return data.toString('utf8').replace(/\r?\n[ \t]/g, '').split(/\r?\n/).filter(Boolean).map(rrule).sort();
}

const sum = (reports: CollectionReport[], key: 'items' | 'copied' | 'updated' | 'unchanged' | 'deleted' | 'skipped') => reports.reduce((n, r) => n + r[key], 0);

describe('DAV copy between Radicale and Xandikos', () => {
  let radicale: RadicaleInstance;
  let xandikos: XandikosInstance;
  let source: DavClient;
  let sourceHomes: DavHomes;
  let dest: DavClient;
  let destHomes: DavHomes;
  let loaded: LoadedCorpus & { refused: string[] };
  let state: Awaited<ReturnType<typeof openGroupwareState>>;

  before(async () => {
    [radicale, xandikos] = await Promise.all([startRadicale(), startXandikos({ user: 'alice', password: 'x-secret' })]);
    await radicale.addUser('alice', 'r-secret');
    await radicale.addUser('carol', 'c-secret');
    source = client(radicale.url, 'alice', 'r-secret');
    dest = client(xandikos.url, 'alice', 'x-secret');
    sourceHomes = await discoverHomes(source);
    destHomes = await discoverHomes(dest);
    loaded = await loadCorpus(source, sourceHomes.calendarHome!);
    state = await openGroupwareState();
  });

  after(async () => {
    await state?.close();
    source?.session.close();
    dest?.session.close();
    await Promise.all([radicale?.stop(), xandikos?.stop()]);
  });

  it('discovers the principal and the home sets of both servers (well-known, current-user-principal)', () => {
    assert.deepEqual(sourceHomes, { principal: '/alice/', calendarHome: '/alice/', addressbookHome: '/alice/' });
    assert.deepEqual(destHomes, { principal: '/alice/', calendarHome: '/alice/calendars/', addressbookHome: '/alice/contacts/' });
    // Radicale refuses the Outlook and Gmail exports (vCard 2.1 without UID): they are exercised the other way round.
    assert.equal(loaded.items, 37);
    assert.equal(loaded.refused.length, 2);
  });

  it('Radicale → Xandikos: every item is sent byte for byte and arrives whole, collections keep their names and colour', async () => {
    const reports = await copyDav({ source, sourceHomes, dest, destHomes, ledger: state.ledger, pass: 1, kinds: ALL });
    assert.deepEqual(reports.map((r) => [r.kind, r.name, r.state]).sort(), [
      ['addressbook', 'Contacts — équipe', 'copied'], ['calendar', 'Travail', 'copied'], ['calendar', 'US Holidays', 'copied'], ['tasks', 'Tâches', 'copied'],
    ]);
    assert.equal(sum(reports, 'items'), loaded.items);
    assert.equal(sum(reports, 'copied'), loaded.items);
    assert.equal(sum(reports, 'skipped'), 0);
    const sourceItems = await contents(source, sourceHomes);
    const destItems = await contents(dest, destHomes);
    assert.equal(destItems.size, loaded.items);
    const byName = (m: Map<string, Buffer>) => new Map([...m].map(([href, data]) => [href.split('/').slice(-2).join('/'), data]));
    const destByName = byName(destItems);
    const sent = new Set(xandikos.requests.filter((r) => r.method === 'PUT').map((r) => r.sha256));
    for (const [name, data] of byName(sourceItems)) {
      assert.ok(sent.has(sha256(data)), `${name} was not sent byte for byte`);
      assert.deepEqual(contentLines(destByName.get(name)!), contentLines(data), `${name} differs on the destination`);
    }
    const standup = destByName.get('work/standup.ics')!.toString('utf8');
    assert.equal(standup.match(new RegExp(`UID:${RECURRING_UID}`, 'g'))?.length, 2, 'the exception stays in the same resource as its series');
    assert.ok(contentLines(Buffer.from(standup)).includes('RRULE:BYDAY=MO;COUNT=20;FREQ=WEEKLY'));
    assert.match(standup, /EXDATE;TZID=Europe\/Paris:20260119T093000/);
    assert.match(standup, /RECURRENCE-ID;TZID=Europe\/Paris:20260112T093000/);
    const work = (await dest.collections(destHomes)).find((c) => c.href.endsWith('/work/'))!;
    assert.equal(work.displayName, 'Travail');
    assert.equal(work.color, '#FF8800FF');
  });

  it('a re-run copies nothing and doubles nothing', async () => {
    const before = (await contents(dest, destHomes)).size;
    const reports = await copyDav({ source, sourceHomes, dest, destHomes, ledger: state.ledger, pass: 2, kinds: ALL });
    assert.equal(sum(reports, 'copied'), 0);
    assert.equal(sum(reports, 'unchanged'), loaded.items);
    assert.equal((await contents(dest, destHomes)).size, before);
  });

  it('a delta pass carries an edit and a deletion, and leaves what it did not put there alone', async () => {
    const fete = '/alice/work/fete.ics';
    const old = await source.get(fete, 1_000_000);
    assert.ok('data' in old && old.etag);
    const edited = Buffer.from(old.data.toString('utf8').replace('SUMMARY:Fête nationale', 'SUMMARY:Fête nationale (férié)'));
    assert.equal((await source.put(fete, edited, 'text/calendar; charset=utf-8', { ifMatch: old.etag! })).ok, true);
    const zoe = await source.get('/alice/contacts/zoe.vcf', 1_000_000);
    assert.ok('data' in zoe);
    assert.equal(await source.delete('/alice/contacts/zoe.vcf', zoe.etag!), true);
    // Something the user put on the destination themselves: never touched.
    const own = '/alice/contacts/contacts/own.vcf';
    assert.equal((await dest.put(own, Buffer.from('BEGIN:VCARD\r\nVERSION:3.0\r\nUID:own@x\r\nFN:Own\r\nEND:VCARD\r\n'), 'text/vcard', { ifNoneMatch: true })).ok, true);

    const reports = await copyDav({ source, sourceHomes, dest, destHomes, ledger: state.ledger, pass: 3, kinds: ALL });
    assert.equal(sum(reports, 'updated'), 1);
    assert.equal(sum(reports, 'deleted'), 1);
    assert.equal(sum(reports, 'copied'), 0);
    const after = await contents(dest, destHomes);
    assert.ok([...after.values()].some((d) => d.toString('utf8').includes('SUMMARY:Fête nationale (férié)')), 'the edit arrived');
    assert.ok(![...after.keys()].some((href) => href.endsWith('/zoe.vcf')), 'the deleted contact is gone');
    assert.ok(after.has(own), "the user's own contact is still there");
  });

  it('a crash between PUT and the ledger write: the next run adopts what it finds, no duplicates', async () => {
    // A fresh ledger is what a kill -9 right after every PUT leaves behind.
    const lost = await openGroupwareState();
    try {
      const countBefore = (await contents(dest, destHomes)).size;
      const reports = await copyDav({ source, sourceHomes, dest, destHomes, ledger: lost.ledger, pass: 1, kinds: ALL });
      assert.equal(sum(reports, 'copied'), 0);
      assert.equal(sum(reports, 'skipped'), 0);
      assert.equal(sum(reports, 'unchanged'), sum(reports, 'items'));
      assert.equal((await contents(dest, destHomes)).size, countBefore);
    } finally {
      await lost.close();
    }
  });

  it('Xandikos → Radicale: the Outlook/Gmail vCard 2.1 exports Radicale refuses go to the skip list with its words', async () => {
    const abook = '/alice/contacts/contacts/';
    const outlook = Buffer.from((await import('node:fs')).readFileSync(new URL('./testdata/Contact.vcf', import.meta.url)));
    assert.equal((await dest.put(`${abook}outlook.vcf`, outlook, 'text/vcard', { ifNoneMatch: true })).ok, true);
    const carol = client(radicale.url, 'carol', 'c-secret');
    const back = await openGroupwareState();
    try {
      const carolHomes = await discoverHomes(carol);
      const reports = await copyDav({ source: dest, sourceHomes: destHomes, dest: carol, destHomes: carolHomes, ledger: back.ledger, pass: 1, kinds: ALL });
      const items = sum(reports, 'items');
      assert.equal(items, 38, 'the 36 left after the delta, the own contact and the Outlook export');
      assert.equal(sum(reports, 'copied') + sum(reports, 'skipped'), items);
      assert.equal(sum(reports, 'skipped'), 1);
      const contacts = reports.find((r) => r.sourceId === abook)!;
      const [skip] = await back.ledger.skipList(abook);
      assert.equal(skip!.sourceId, `${abook}outlook.vcf`);
      assert.match(skip!.reason, /the destination refused it: 400/);
      assert.equal(contacts.skipped, 1);
      const again = await copyDav({ source: dest, sourceHomes: destHomes, dest: carol, destHomes: carolHomes, ledger: back.ledger, pass: 2, kinds: ALL });
      assert.equal(sum(again, 'copied'), 0);
      assert.equal((await contents(carol, carolHomes)).size, items - 1);
    } finally {
      await back.close();
      carol.session.close();
    }
  });

  it('a 5 MB contact photo: copied under the default limit, a skip entry with the reason under a 1 MB one', { timeout: 120_000 }, async () => {
    const home = sourceHomes.addressbookHome!;
    await source.createCollection(`${home}big/`, { href: '', kind: 'addressbook', displayName: 'Big', components: [] });
    const photo = Buffer.alloc(5 * 1024 * 1024, 0x5a).toString('base64').replace(/.{1,74}/g, (line, at) => (at === 0 ? line : `\r\n ${line}`));
    const card = Buffer.from(`BEGIN:VCARD\r\nVERSION:3.0\r\nUID:big-photo@cutover.test\r\nFN:Big Photo\r\nPHOTO;ENCODING=b;TYPE=JPEG:${photo}\r\nEND:VCARD\r\n`);
    assert.equal((await source.put(`${home}big/photo.vcf`, card, 'text/vcard', { ifNoneMatch: true })).ok, true);
    const small = await openGroupwareState();
    try {
      const limited = await copyDav({ source, sourceHomes, dest, destHomes, ledger: small.ledger, pass: 1, kinds: new Set(['addressbook']), maxItemBytes: 1024 * 1024, excluded: (c) => (c.href.endsWith('/big/') ? undefined : 'not this one') });
      const big = limited.find((r) => r.sourceId === `${home}big/`)!;
      assert.deepEqual([big.copied, big.skipped], [0, 1]);
      assert.match((await small.ledger.skipList(big.sourceId))[0]!.reason, /larger than the 1\.0 MB limit for one item/);
    } finally {
      await small.close();
    }
    const reports = await copyDav({ source, sourceHomes, dest, destHomes, ledger: state.ledger, pass: 4, kinds: new Set(['addressbook']) });
    assert.equal(reports.find((r) => r.sourceId === `${home}big/`)!.copied, 1);
  });

  it('a wrong password is a clear AUTH_FAILED, on both servers', async () => {
    for (const url of [radicale.url, xandikos.url]) {
      await assert.rejects(discoverHomes(client(url, 'alice', 'wrong')), (err: Error & { code?: string }) => err.code === 'AUTH_FAILED' && /Login refused by 127\.0\.0\.1:\d+/.test(err.message));
    }
  });

  it('leaves out a collection the plan excludes, with the reason', async () => {
    const other = await openGroupwareState();
    try {
      const reports = await copyDav({ source, sourceHomes, dest, destHomes, ledger: other.ledger, pass: 1, kinds: ALL, excluded: (c) => (c.href === '/alice/holidays/' ? 'left out by the admin' : undefined) });
      const holidays = reports.find((r) => r.sourceId === '/alice/holidays/')!;
      assert.equal(holidays.state, 'excluded');
      assert.equal(holidays.reason, 'left out by the admin');
      assert.equal(holidays.copied + holidays.unchanged, 0);
      const onlyContacts = await copyDav({ source, sourceHomes, dest, destHomes, ledger: other.ledger, pass: 2, kinds: new Set(['addressbook']) });
      assert.deepEqual([...new Set(onlyContacts.map((r) => r.kind))], ['addressbook']);
    } finally {
      await other.close();
    }
  });
});
