// `cutover copy` with the groupware flags, end to end on real servers: Dovecot+Pigeonhole on both
// sides, Radicale as the source DAV server, Xandikos as the destination's; the DAV and ManageSieve
// logins are the IMAP ones.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { addDomain, addMailbox, startDovecot, type DovecotInstance } from '../../server/devservers/dovecot.ts';
import { startKnot } from '../../server/devservers/knot.ts';
import { startRadicale, type RadicaleInstance } from '../../server/devservers/radicale.ts';
import { startXandikos, type XandikosInstance } from '../../server/devservers/xandikos.ts';
import { DavClient } from '../../server/groupware/dav/client.ts';
import { DavSession } from '../../server/groupware/dav/http.ts';
import { ManageSieve } from '../../server/groupware/sieve/client.ts';
import { cutover, tempDataDir } from '../support/cli.ts';
import { loadCorpus } from './corpus.ts';

const USER = 'alice@example.test';
const PASSWORD = 'alice-pw';
const VACATION = 'require ["vacation"];\r\nvacation :days 3 "Absent — retour lundi.";\r\n';

describe('cutover copy --contacts --calendars --filters', () => {
  let source: DovecotInstance;
  let dest: DovecotInstance;
  let radicale: RadicaleInstance;
  let xandikos: XandikosInstance;
  let dir: string;
  let items: number;

  before(async () => {
    [source, dest, radicale, xandikos] = await Promise.all([
      startDovecot({ sieve: true }), startDovecot({ sieve: true }), startRadicale(), startXandikos({ user: USER, password: PASSWORD }),
    ]);
    for (const d of [source, dest]) {
      await addDomain(d, 'example.test');
      await addMailbox(d, USER, PASSWORD);
    }
    await radicale.addUser(USER, PASSWORD);
    const dav = new DavClient(new DavSession({ url: radicale.url, tlsVerify: true, auth: { user: USER, pass: PASSWORD } }));
    items = (await loadCorpus(dav, `/${USER}/`)).items;
    dav.session.close();
    const sieve = await ManageSieve.connect({ host: '127.0.0.1', port: source.sievePort!, security: 'none', tlsVerify: true, auth: { user: USER, pass: PASSWORD } });
    assert.deepEqual(await sieve.putScript('absence', Buffer.from(VACATION)), { ok: true });
    await sieve.setActive('absence');
    await sieve.logout();
    dir = tempDataDir();
    writeFileSync(path.join(dir, 'pw'), `${PASSWORD}\n`);
  });

  after(async () => {
    await Promise.all([source?.stop(), dest?.stop(), radicale?.stop(), xandikos?.stop()]);
  });

  const imapArgs = () => ['--source', `imap://${USER}@127.0.0.1:${source.port}`, '--source-password-file', path.join(dir, 'pw'),
    '--dest', `imap://${USER}@127.0.0.1:${dest.port}`, '--dest-password-file', path.join(dir, 'pw')];
  const groupwareArgs = () => ['--source-dav', radicale.url, '--dest-dav', xandikos.url, '--source-sieve', `127.0.0.1:${source.sievePort}`, '--dest-sieve', `127.0.0.1:${dest.sievePort}`];

  it('--all copies the mail, the contacts, calendars, tasks and the active auto-reply; a re-run with --no-mail copies nothing', { timeout: 120_000 }, async () => {
    const state = path.join(dir, 'state.sqlite');
    const first = await cutover(['copy', ...imapArgs(), ...groupwareArgs(), '--all', '--state', state, '--json'], { dataDir: dir });
    assert.equal(first.code, 0, first.stderr);
    const report = JSON.parse(first.stdout) as { groupware: Array<{ kind: string; copied: number; state: string; items: number }> };
    const copied = report.groupware.filter((c) => c.kind !== 'filters').reduce((n, c) => n + c.copied, 0);
    assert.equal(copied, items);
    assert.deepEqual(report.groupware.map((c) => c.kind).sort(), ['addressbook', 'calendar', 'calendar', 'filters', 'tasks']);
    assert.equal(report.groupware.find((c) => c.kind === 'filters')!.copied, 1);
    const d = await ManageSieve.connect({ host: '127.0.0.1', port: dest.sievePort!, security: 'none', tlsVerify: true, auth: { user: USER, pass: PASSWORD } });
    assert.deepEqual(await d.listScripts(), [{ name: 'absence', active: true }]);
    assert.equal((await d.getScript('absence')).toString('utf8'), VACATION);
    await d.logout();

    const again = await cutover(['copy', ...imapArgs(), ...groupwareArgs(), '--all', '--no-mail', '--state', state], { dataDir: dir });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /Travail \[calendar\]: 0 copied, 0 updated, 2 unchanged, 0 deleted, 0 skipped/);
    assert.match(again.stdout, /Sieve\) \[filters\]: 0 copied, 0 updated, 1 unchanged/);
    assert.doesNotMatch(again.stdout, /messages .* copied in/, '--no-mail copies no mail');
  });

  it('kill -9 right after a PUT, before its ledger row: the re-run ends with every item once', { timeout: 120_000 }, async () => {
    const fresh = await startRadicale();
    try {
      await fresh.addUser(USER, PASSWORD);
      const state = path.join(dir, 'crash.sqlite');
      const args = ['copy', ...imapArgs(), '--source-dav', radicale.url, '--dest-dav', fresh.url, '--contacts', '--calendars', '--no-mail', '--state', state, '--json'];
      const killed = await cutover(args, { dataDir: dir, env: { CUTOVER_CRASH_AT: 'groupware:after-put#10' } });
      assert.equal(killed.signal, 'SIGKILL');
      const again = await cutover(args, { dataDir: dir });
      assert.equal(again.code, 0, again.stderr);
      const report = (JSON.parse(again.stdout) as { groupware: Array<{ copied: number; unchanged: number; items: number }> }).groupware;
      const sumOf = (key: 'copied' | 'unchanged' | 'items') => report.reduce((n, c) => n + c[key], 0);
      assert.equal(sumOf('items'), items);
      // At least the ten PUTs that had landed (up to three more were in flight beside the tenth) are found, not copied again.
      assert.equal(sumOf('copied') + sumOf('unchanged'), items);
      assert.ok(sumOf('unchanged') >= 10 && sumOf('unchanged') <= 13, `unchanged: ${sumOf('unchanged')}`);
      const check = new DavClient(new DavSession({ url: fresh.url, tlsVerify: true, auth: { user: USER, pass: PASSWORD } }));
      let stored = 0;
      for (const c of await check.collections({ calendarHome: `/${USER}/`, addressbookHome: `/${USER}/` })) for await (const _ of check.items(c.href)) stored++;
      check.session.close();
      assert.equal(stored, items, 'no duplicate on the destination');
    } finally {
      await fresh.stop();
    }
  });

  it('--source-auth-user: an admin login for IMAP is the admin login for DAV (the account\'s principal) and ManageSieve (authorisation identity)', { timeout: 120_000 }, async () => {
    const [adminDav, fresh] = await Promise.all([startRadicale({ admin: source.masterUser }), startRadicale()]);
    try {
      await adminDav.addUser(source.masterUser, source.masterPassword);
      await adminDav.addUser(USER, 'a-password-cutover-never-sees');
      const own = new DavClient(new DavSession({ url: adminDav.url, tlsVerify: true, auth: { user: USER, pass: 'a-password-cutover-never-sees' } }));
      const loaded = (await loadCorpus(own, `/${USER}/`)).items;
      own.session.close();
      await fresh.addUser(USER, PASSWORD);
      writeFileSync(path.join(dir, 'master'), `${source.masterPassword}\n`);
      const args = ['copy', '--source', `imap://${USER}@127.0.0.1:${source.port}`, '--source-auth-user', source.masterUser, '--source-password-file', path.join(dir, 'master'),
        '--dest', `imap://${USER}@127.0.0.1:${dest.port}`, '--dest-password-file', path.join(dir, 'pw'),
        '--source-dav', adminDav.url, '--dest-dav', fresh.url, '--source-sieve', `127.0.0.1:${source.sievePort}`, '--dest-sieve', `127.0.0.1:${dest.sievePort}`, '--all', '--no-mail', '--json'];
      const run = await cutover(args, { dataDir: dir });
      assert.equal(run.code, 0, run.stderr + run.stdout);
      const report = (JSON.parse(run.stdout) as { groupware: Array<{ kind: string; copied: number; unchanged: number; state: string }> }).groupware;
      assert.equal(report.filter((c) => c.kind !== 'filters').reduce((n, c) => n + c.copied, 0), loaded);
      const filters = report.find((c) => c.kind === 'filters')!;
      assert.equal(filters.state, 'copied');
      assert.equal(filters.copied + filters.unchanged, 1, 'the auto-reply, read through the master user');

      const absent = await cutover([...args, '--source-dav-principal', '/nobody-{user}/'], { dataDir: dir });
      assert.equal(absent.code, 0, absent.stderr);
      assert.deepEqual((JSON.parse(absent.stdout) as { groupware: Array<{ kind: string }> }).groupware.map((c) => c.kind), ['filters'], 'an account with no principal there has nothing to copy, and nothing is created on the source');
      const misplaced = await cutover(['copy', ...imapArgs(), '--source-dav', adminDav.url, '--dest-dav', fresh.url, '--source-dav-principal', '/{user}/', '--contacts', '--no-mail'], { dataDir: dir });
      assert.notEqual(misplaced.code, 0);
      assert.match(misplaced.stderr, /--source-dav-principal and --source-dav-user-header are for an admin login \(--source-auth-user\)/);
      const discovered = await cutover(args.filter((a, i) => a !== '--source-dav' && args[i - 1] !== '--source-dav'), { dataDir: dir });
      assert.notEqual(discovered.code, 0);
      assert.match(discovered.stderr, /with --source-auth-user the DAV login is the admin's, sent only to a server you name: give --source-dav URL/);
    } finally {
      await Promise.all([adminDav.stop(), fresh.stop()]);
    }
  });

  it('without --source-dav: SRV via --nameserver (Knot) → a TLS Radicale pinned with --ca → current-user-principal', { timeout: 120_000 }, async () => {
    const tlsDav = await startRadicale({ tls: true });
    const dns = await startKnot({ zone: 'example.test', records: [`_caldavs._tcp IN SRV 0 1 ${tlsDav.port} localhost.`] });
    try {
      await tlsDav.addUser(USER, PASSWORD);
      const own = new DavClient(new DavSession({ url: tlsDav.url, tlsVerify: true, ca: readFileSync(tlsDav.certFile!, 'utf8'), auth: { user: USER, pass: PASSWORD } }));
      const loaded = (await loadCorpus(own, `/${USER}/`)).items;
      own.session.close();
      const fresh = await startRadicale();
      try {
        await fresh.addUser(USER, PASSWORD);
        const run = await cutover(['copy', ...imapArgs(), '--ca', tlsDav.certFile!, '--nameserver', `127.0.0.1:${dns.port}`, '--dest-dav', fresh.url, '--contacts', '--calendars', '--no-mail', '--json'], { dataDir: dir });
        assert.equal(run.code, 0, run.stderr + run.stdout);
        const report = (JSON.parse(run.stdout) as { groupware: Array<{ copied: number; sourceId: string }> }).groupware;
        assert.equal(report.reduce((n, c) => n + c.copied, 0), loaded);
        assert.ok(report.every((c) => decodeURIComponent(c.sourceId).startsWith(`/${USER}/`)));
      } finally {
        await fresh.stop();
      }
      const unpinned = await cutover(['copy', ...imapArgs(), '--nameserver', `127.0.0.1:${dns.port}`, '--dest-dav', xandikos.url, '--contacts', '--no-mail'], { dataDir: dir });
      assert.notEqual(unpinned.code, 0, 'the private certificate is refused without --ca');
      assert.match(unpinned.stderr, /localhost/);
    } finally {
      await Promise.all([dns.stop(), tlsDav.stop()]);
    }
  });

  it('kill -9 right after a Sieve PUTSCRIPT, before its ledger row: the re-run ends with the script once, active', { timeout: 120_000 }, async () => {
    const target = await startDovecot({ sieve: true });
    try {
      await addDomain(target, 'example.test');
      await addMailbox(target, USER, PASSWORD);
      const state = path.join(dir, 'sieve-crash.sqlite');
      const args = ['copy', ...imapArgs().slice(0, 4), '--dest', `imap://${USER}@127.0.0.1:${target.port}`, '--dest-password-file', path.join(dir, 'pw'),
        '--source-sieve', `127.0.0.1:${source.sievePort}`, '--dest-sieve', `127.0.0.1:${target.sievePort}`, '--filters', '--no-mail', '--state', state, '--json'];
      const killed = await cutover(args, { dataDir: dir, env: { CUTOVER_CRASH_AT: 'sieve:after-put#1' } });
      assert.equal(killed.signal, 'SIGKILL');
      const again = await cutover(args, { dataDir: dir });
      assert.equal(again.code, 0, again.stderr);
      const filters = (JSON.parse(again.stdout) as { groupware: Array<{ copied: number; unchanged: number }> }).groupware[0]!;
      assert.deepEqual([filters.copied, filters.unchanged], [0, 1]);
      const d = await ManageSieve.connect({ host: '127.0.0.1', port: target.sievePort!, security: 'none', tlsVerify: true, auth: { user: USER, pass: PASSWORD } });
      assert.deepEqual(await d.listScripts(), [{ name: 'absence', active: true }]);
      await d.logout();
    } finally {
      await target.stop();
    }
  });

  it('--source-dav-user with --source-dav-password-file: a DAV server with its own users, "unless told otherwise"', { timeout: 120_000 }, async () => {
    await radicale.addUser('alice-cal', 'cal-only-pw');
    const own = new DavClient(new DavSession({ url: radicale.url, tlsVerify: true, auth: { user: 'alice-cal', pass: 'cal-only-pw' } }));
    const loaded = (await loadCorpus(own, '/alice-cal/')).items;
    own.session.close();
    writeFileSync(path.join(dir, 'calpw'), 'cal-only-pw\n');
    const base = ['copy', ...imapArgs(), '--source-dav', radicale.url, '--dest-dav', xandikos.url, '--contacts', '--calendars', '--no-mail', '--json', '--source-dav-user', 'alice-cal'];
    const run = await cutover([...base, '--source-dav-password-file', path.join(dir, 'calpw')], { dataDir: dir });
    assert.equal(run.code, 0, run.stderr + run.stdout);
    const report = (JSON.parse(run.stdout) as { groupware: Array<{ copied: number; unchanged: number; items: number; sourceId: string }> }).groupware;
    assert.equal(report.reduce((n, c) => n + c.items, 0), loaded);
    assert.ok(report.every((c) => c.sourceId.startsWith('/alice-cal/')), 'the collections of the DAV login given, not of the IMAP one');
    const imapPassword = await cutover([...base, '--source-dav-password-file', path.join(dir, 'pw')], { dataDir: dir });
    assert.notEqual(imapPassword.code, 0);
    assert.match(imapPassword.stderr, new RegExp(`Login refused by 127\\.0\\.0\\.1:${radicale.port}`));
    const half = await cutover(base, { dataDir: dir });
    assert.match(half.stderr, /a separate DAV login is --source-dav-user with exactly one of --source-dav-password-file FILE, --source-dav-password-env VAR/);
  });

  it('--contacts --calendars without --filters touches no filter', { timeout: 60_000 }, async () => {
    const run = await cutover(['copy', ...imapArgs(), ...groupwareArgs(), '--contacts', '--calendars', '--no-mail', '--json'], { dataDir: dir });
    assert.equal(run.code, 0, run.stderr + run.stdout);
    const kinds = (JSON.parse(run.stdout) as { groupware: Array<{ kind: string }> }).groupware.map((c) => c.kind);
    assert.ok(!kinds.includes('filters'));
    assert.ok(kinds.includes('addressbook'));
  });

  it('bad input: --no-mail alone, a malformed multistatus, a DAV login the server refuses', { timeout: 60_000 }, async () => {
    const alone = await cutover(['copy', ...imapArgs(), '--no-mail'], { dataDir: dir });
    assert.notEqual(alone.code, 0);
    assert.match(alone.stderr, /--no-mail copies groupware alone/);

    const broken = http.createServer((req, res) => { req.resume(); res.writeHead(207, { 'content-type': 'application/xml' }).end('<?xml version="1.0"?><d:multistatus xmlns:d="DAV:"><d:response><d:href>/x/</d:href><d:propstat>'); });
    await new Promise<void>((resolve) => broken.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(broken.address() as { port: number }).port}/`;
      const bad = await cutover(['copy', ...imapArgs(), '--source-dav', url, '--dest-dav', xandikos.url, '--contacts', '--no-mail'], { dataDir: dir });
      assert.notEqual(bad.code, 0);
      assert.match(bad.stderr, /No CalDAV\/CardDAV service found .*invalid reply to PROPFIND/);
    } finally {
      broken.close();
    }

    writeFileSync(path.join(dir, 'other'), 'not-the-dav-password\n');
    const refused = await cutover(['copy', '--source', `imap://${USER}@127.0.0.1:${source.port}`, '--source-password-file', path.join(dir, 'other'),
      '--dest', `imap://${USER}@127.0.0.1:${dest.port}`, '--dest-password-file', path.join(dir, 'pw'), '--source-dav', radicale.url, '--dest-dav', xandikos.url, '--calendars', '--no-mail'], { dataDir: dir });
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, new RegExp(`Login refused by 127\\.0\\.0\\.1:${radicale.port}`));
  });
});
