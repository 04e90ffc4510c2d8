// RFC 6764 discovery on real servers, as the `imap` platform does it when its DAV settings give no
// URL: the domain's _caldavs._tcp SRV record (served by Knot) names a Radicale speaking TLS with a
// private certificate (pinned), then current-user-principal → the home sets. The destination is a
// Xandikos under /dav/ behind a host whose root is a web site: only /.well-known/caldav finds it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import imapPlugin from '../../plugins/imap/index.ts';
import { startKnot, type KnotInstance } from '../../server/devservers/knot.ts';
import { startRadicale, type RadicaleInstance } from '../../server/devservers/radicale.ts';
import { startXandikos, type XandikosInstance } from '../../server/devservers/xandikos.ts';
import { ServerResolver } from '../../server/dns/resolver.ts';
import { DavClient } from '../../server/groupware/dav/client.ts';
import { DavSession } from '../../server/groupware/dav/http.ts';
import { copyGroupware, resolveDav } from '../../server/groupware/index.ts';
import { openGroupwareState } from '../../server/groupware/state.ts';
import type { PlatformConnector } from '../../server/plugins/contract.ts';
import { loadCorpus } from './corpus.ts';

const USER = 'alice@example.test';
const PASSWORD = 'alice-pw';
const CONTACTS_CALENDARS = { contacts: true, calendars: true, filters: false };

function platform(config: unknown): PlatformConnector {
  return imapPlugin.platform!(imapPlugin.configSchema.parse(config) as never, {} as never);
}

describe('DAV discovery on real servers: SRV (Knot) → TLS Radicale, /.well-known → Xandikos', () => {
  let dns: KnotInstance;
  let radicale: RadicaleInstance;
  let xandikos: XandikosInstance;
  let lookup: ServerResolver;
  let items: number;

  before(async () => {
    [radicale, xandikos] = await Promise.all([startRadicale({ tls: true }), startXandikos({ user: USER, password: PASSWORD, prefix: '/dav' })]);
    dns = await startKnot({ zone: 'example.test', records: [`_caldavs._tcp IN SRV 0 1 ${radicale.port} localhost.`, `_carddavs._tcp IN SRV 0 1 ${radicale.port} localhost.`] });
    lookup = new ServerResolver([{ host: '127.0.0.1', port: dns.port }]);
    await radicale.addUser(USER, PASSWORD);
    const { readFileSync } = await import('node:fs');
    const own = new DavClient(new DavSession({ url: radicale.url, tlsVerify: true, ca: readFileSync(radicale.certFile!, 'utf8'), auth: { user: USER, pass: PASSWORD } }));
    items = (await loadCorpus(own, `/${USER}/`)).items;
    own.session.close();
  });

  after(async () => {
    await Promise.allSettled([dns?.stop(), radicale?.stop(), xandikos?.stop()]);
  });

  it('no URL: the SRV record gives https://localhost:PORT/, the pinned CA is checked, and the copy runs; the destination is found through /.well-known/caldav', { timeout: 120_000 }, async () => {
    const source = platform({ host: '127.0.0.1', security: 'tls', dav: { discover: true, caFile: radicale.certFile } });
    const dest = platform({ host: '127.0.0.1', security: 'tls', dav: { url: xandikos.url } });
    const sourceDav = (await source.davEndpoint!(USER, PASSWORD))!;
    assert.equal(sourceDav.url, '', 'nothing configured: discovered per account');
    assert.equal((await resolveDav({ dav: sourceDav, domain: 'example.test' }, lookup))!.url, `https://localhost:${radicale.port}/`);

    const state = await openGroupwareState();
    try {
      const report = await copyGroupware({
        source: { dav: sourceDav, domain: 'example.test' }, dest: { dav: await dest.davEndpoint!(USER, PASSWORD), domain: 'example.test' },
        wanted: CONTACTS_CALENDARS, ledger: state.ledger, pass: 1, lookup,
      });
      assert.equal(report.collections.reduce((n, c) => n + c.copied, 0), items);
      assert.ok(report.collections.every((c) => c.destHref?.startsWith('/dav/')), 'created under the service Xandikos announced');
    } finally {
      await state.close();
    }
    const asked = xandikos.requests.map((r) => `${r.method} ${r.path}`);
    assert.deepEqual(asked.slice(0, 3), ['PROPFIND /', 'PROPFIND /.well-known/caldav', 'PROPFIND /dav/'], 'the root is a web site: the well-known URI led to the service');
  });

  it('the same discovery without the pinned CA refuses the certificate (TLS is verified by default)', { timeout: 60_000 }, async () => {
    const unpinned = platform({ host: '127.0.0.1', security: 'tls', dav: { discover: true } });
    const state = await openGroupwareState();
    try {
      await assert.rejects(copyGroupware({
        source: { dav: await unpinned.davEndpoint!(USER, PASSWORD), domain: 'example.test' }, dest: { dav: { url: xandikos.url, tlsVerify: true, auth: { user: USER, pass: PASSWORD } } },
        wanted: CONTACTS_CALENDARS, ledger: state.ledger, pass: 1, lookup,
      }), (err: Error & { code?: string }) => err.code === 'TLS_FAILED');
    } finally {
      await state.close();
    }
  });
});
