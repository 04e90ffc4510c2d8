// The `imap` platform's DAV and ManageSieve settings with admin logins, on real servers, so no
// account's own password is needed: Radicale with `from_file` rights giving an admin every
// account's collections (the account's principal path), Radicale behind a proxy that names the
// account in X-Remote-User (`http_x_remote_user`), and Dovecot Pigeonhole's master user through a
// SASL authorisation identity and through the `user*master` form.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import imapPlugin from '../../plugins/imap/index.ts';
import { addDomain, addMailbox, startDovecot, type DovecotInstance } from '../../server/devservers/dovecot.ts';
import { startRadicale, type RadicaleInstance } from '../../server/devservers/radicale.ts';
import { DavClient } from '../../server/groupware/dav/client.ts';
import { DavSession } from '../../server/groupware/dav/http.ts';
import { copyGroupware, type GroupwareSide } from '../../server/groupware/index.ts';
import { ManageSieve } from '../../server/groupware/sieve/client.ts';
import { openGroupwareState } from '../../server/groupware/state.ts';
import type { PlatformConnector, SieveEndpoint } from '../../server/plugins/contract.ts';
import { loadCorpus } from './corpus.ts';

const USER = 'alice@example.test';
const PASSWORD = 'alice-own-pw';
const DAV_ADMIN = 'dav-admin';
const ADMIN_PW = 'dav-admin-pw';
const VACATION = 'require ["vacation"];\r\nvacation :days 4 "Parti — de retour le 3.";\r\n';
const ALL = { contacts: true, calendars: true, filters: true };

function platform(config: unknown): PlatformConnector {
  return imapPlugin.platform!(imapPlugin.configSchema.parse(config) as never, {} as never);
}

async function side(p: PlatformConnector): Promise<GroupwareSide> {
  return { dav: await p.davEndpoint!(USER), sieve: await p.sieveEndpoint!(USER), domain: 'example.test' };
}

/** What `user` sees logging in with their own password: item count per collection name. */
async function ownView(url: string, user: string, pass: string): Promise<Map<string, number>> {
  const client = new DavClient(new DavSession({ url, tlsVerify: true, auth: { user, pass } }));
  try {
    const out = new Map<string, number>();
    for (const c of await client.collections({ calendarHome: `/${user}/`, addressbookHome: `/${user}/` })) {
      let n = 0;
      for await (const _ of client.items(c.href)) n++;
      out.set(c.displayName ?? c.href, n);
    }
    return out;
  } finally {
    client.session.close();
  }
}

async function sieveAs(d: DovecotInstance, auth: SieveEndpoint['auth']) {
  return ManageSieve.connect({ host: '127.0.0.1', port: d.sievePort!, security: 'none', tlsVerify: true, auth });
}

describe('admin logins for DAV and ManageSieve on the imap platform (Radicale, Pigeonhole)', () => {
  let oldMail: DovecotInstance;
  let newMail: DovecotInstance;
  let oldDav: RadicaleInstance;
  let newDav: RadicaleInstance;
  let proxied: RadicaleInstance;
  let items: number;
  const imapBase = (d: DovecotInstance) => ({ host: '127.0.0.1', port: d.port, security: 'none' as const });
  const sieveOf = (d: DovecotInstance) => ({ host: '127.0.0.1', port: d.sievePort!, security: 'none' as const });
  let source: PlatformConnector;
  let dest: PlatformConnector;

  before(async () => {
    [oldMail, newMail, oldDav, newDav, proxied] = await Promise.all([
      startDovecot({ sieve: true }), startDovecot({ sieve: true }),
      startRadicale({ admin: DAV_ADMIN }), startRadicale({ admin: DAV_ADMIN }), startRadicale({ auth: 'http_x_remote_user' }),
    ]);
    for (const d of [oldMail, newMail]) {
      await addDomain(d, 'example.test');
      await addMailbox(d, USER, PASSWORD);
    }
    for (const r of [oldDav, newDav]) await r.addUser(DAV_ADMIN, ADMIN_PW);
    // The account's data is made by the account itself on the old server; on the new one it never logged in.
    await oldDav.addUser(USER, PASSWORD);
    const own = new DavClient(new DavSession({ url: oldDav.url, tlsVerify: true, auth: { user: USER, pass: PASSWORD } }));
    items = (await loadCorpus(own, `/${USER}/`)).items;
    own.session.close();
    const sieve = await sieveAs(oldMail, { user: USER, pass: PASSWORD });
    assert.deepEqual(await sieve.putScript('absence', Buffer.from(VACATION)), { ok: true });
    await sieve.setActive('absence');
    await sieve.logout();

    // Source: the Dovecot master user as a SASL authorisation identity; destination: `user*master`.
    source = platform({ ...imapBase(oldMail), admin: { kind: 'sasl-authzid', user: oldMail.masterUser, password: oldMail.masterPassword },
      dav: { url: oldDav.url, admin: { user: DAV_ADMIN, password: ADMIN_PW } }, sieve: sieveOf(oldMail) });
    dest = platform({ ...imapBase(newMail), admin: { kind: 'master-user', user: newMail.masterUser, password: newMail.masterPassword },
      dav: { url: newDav.url, admin: { user: DAV_ADMIN, password: ADMIN_PW, principalPath: '/{user}/' } }, sieve: sieveOf(newMail) });
  });

  after(async () => {
    await Promise.allSettled([oldMail?.stop(), newMail?.stop(), oldDav?.stop(), newDav?.stop(), proxied?.stop()]);
  });

  it('the endpoints carry the admin logins, never an account password', async () => {
    const s = await side(source);
    assert.deepEqual(s.dav!.auth, { user: DAV_ADMIN, pass: ADMIN_PW });
    assert.deepEqual(s.dav!.actAs, { user: USER, principal: `/${USER}/` });
    assert.deepEqual(s.sieve!.auth, { user: oldMail.masterUser, pass: oldMail.masterPassword, authzid: USER });
    assert.deepEqual((await dest.sieveEndpoint!(USER))!.auth, { user: `${USER}*${newMail.masterUser}`, pass: newMail.masterPassword });
  });

  it('copies every contact, calendar, task and the active auto-reply with the admins\' logins only; a re-run doubles nothing', { timeout: 120_000 }, async () => {
    const state = await openGroupwareState();
    try {
      const first = await copyGroupware({ source: await side(source), dest: await side(dest), wanted: ALL, ledger: state.ledger, pass: 1 });
      const dav = first.collections.filter((c) => c.kind !== 'filters');
      assert.deepEqual(first.collections.map((c) => c.state), first.collections.map(() => 'copied'));
      assert.equal(dav.reduce((n, c) => n + c.copied, 0), items);
      assert.equal(first.collections.find((c) => c.kind === 'filters')!.copied, 1);

      const again = await copyGroupware({ source: await side(source), dest: await side(dest), wanted: ALL, ledger: state.ledger, pass: 2 });
      assert.equal(again.collections.reduce((n, c) => n + c.copied + c.updated, 0), 0);
      assert.equal(again.collections.reduce((n, c) => n + c.unchanged, 0), items + 1);
    } finally {
      await state.close();
    }
    // The account, logging in with its own password on the new server, owns what the admin put there.
    await newDav.addUser(USER, PASSWORD);
    const seen = await ownView(newDav.url, USER, PASSWORD);
    assert.equal([...seen.values()].reduce((a, b) => a + b, 0), items);
    assert.deepEqual([...seen.keys()].sort(), [...(await ownView(oldDav.url, USER, PASSWORD)).keys()].sort());
    // Collections keep their display name, colour and description.
    const mine = new DavClient(new DavSession({ url: newDav.url, tlsVerify: true, auth: { user: USER, pass: PASSWORD } }));
    const collections = await mine.collections({ calendarHome: `/${USER}/`, addressbookHome: `/${USER}/` });
    mine.session.close();
    const travail = collections.find((c) => c.displayName === 'Travail')!;
    assert.deepEqual([travail.color, travail.description], ['#FF8800FF', 'Réunions']);
    assert.equal(collections.find((c) => c.displayName === 'Contacts — équipe')!.description, 'Carnet principal');
    const sieve = await sieveAs(newMail, { user: USER, pass: PASSWORD });
    assert.deepEqual(await sieve.listScripts(), [{ name: 'absence', active: true }]);
    assert.equal((await sieve.getScript('absence')).toString('utf8'), VACATION);
    await sieve.logout();
  });

  it('a server that takes the account from a proxy header (Radicale http_x_remote_user): the collections land in the account\'s principal', { timeout: 120_000 }, async () => {
    const viaHeader = platform({ ...imapBase(newMail), dav: { url: proxied.url, admin: { user: 'proxy-admin', password: 'proxy-pw', userHeader: 'X-Remote-User' } } });
    const state = await openGroupwareState();
    try {
      const report = await copyGroupware({ source: await side(source), dest: { dav: await viaHeader.davEndpoint!(USER), domain: 'example.test' }, wanted: { ...ALL, filters: false }, ledger: state.ledger, pass: 1 });
      assert.equal(report.collections.reduce((n, c) => n + c.copied, 0), items);
      assert.ok(report.collections.every((c) => decodeURIComponent(c.destHref ?? "").startsWith(`/${USER}/`)), JSON.stringify(report.collections.map((c) => c.destHref)));
    } finally {
      await state.close();
    }
  });

  it('a DAV admin password the server refuses, or a master password Pigeonhole refuses, is AUTH_FAILED', { timeout: 60_000 }, async () => {
    const wrongDav = platform({ ...imapBase(newMail), dav: { url: newDav.url, admin: { user: DAV_ADMIN, password: 'not-it' } } });
    const state = await openGroupwareState();
    try {
      await assert.rejects(copyGroupware({ source: await side(source), dest: { dav: await wrongDav.davEndpoint!(USER) }, wanted: { ...ALL, filters: false }, ledger: state.ledger, pass: 1 }),
        (err: Error & { code?: string }) => err.code === 'AUTH_FAILED');
      const wrongSieve = platform({ ...imapBase(newMail), admin: { kind: 'sasl-authzid', user: newMail.masterUser, password: 'not-it' }, sieve: sieveOf(newMail) });
      await assert.rejects(copyGroupware({ source: await side(source), dest: { sieve: await wrongSieve.sieveEndpoint!(USER) }, wanted: { contacts: false, calendars: false, filters: true }, ledger: state.ledger, pass: 1 }),
        (err: Error & { code?: string }) => err.code === 'AUTH_FAILED');
    } finally {
      await state.close();
    }
  });

  it('a destination without DAV or ManageSieve settings: each part is listed as not migrated, with the reason', async () => {
    const state = await openGroupwareState();
    try {
      const mailOnly = platform(imapBase(newMail));
      const report = await copyGroupware({ source: await side(source), dest: { dav: await mailOnly.davEndpoint!(USER, PASSWORD), sieve: await mailOnly.sieveEndpoint!(USER, PASSWORD) }, wanted: ALL, ledger: state.ledger, pass: 1 });
      assert.deepEqual(report.collections.map((c) => [c.state, c.reason]), [
        ['unavailable', 'the destination platform has no CalDAV/CardDAV endpoint for this account'],
        ['unavailable', 'the destination platform has no ManageSieve endpoint for this account'],
      ]);
      assert.deepEqual((await state.ledger.collections()).map((c) => c.state), ['unavailable', 'unavailable'], 'saved for the mailbox page and the report');
    } finally {
      await state.close();
    }
  });

  it('without an admin login or a password, the platform says what is missing', async () => {
    const bare = platform({ ...imapBase(newMail), dav: { url: newDav.url }, sieve: sieveOf(newMail) });
    await assert.rejects(bare.davEndpoint!(USER), /none is known for alice@example\.test \(or configure dav\.admin\)/);
    await assert.rejects(bare.sieveEndpoint!(USER), /ManageSieve needs an admin login or the account's password/);
    assert.deepEqual((await bare.davEndpoint!(USER, PASSWORD))!.auth, { user: USER, pass: PASSWORD });
    assert.equal(await platform(imapBase(newMail)).davEndpoint!(USER, PASSWORD), null, 'no dav settings: no endpoint (listed as not migrated)');
  });
});
