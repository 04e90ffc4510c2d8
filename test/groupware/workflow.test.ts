// The groupware step in the real workflow: two postfixadmin platforms (Dovecot with Pigeonhole),
// each with its own Radicale, one mailbox migrated step by step by the runner. copy-groupware
// moves the contacts, calendars and the active auto-reply; delta-sync carries an edit made
// afterwards; the mailbox page model (the JSON API) and the report show it per collection.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startRadicale, type RadicaleInstance } from '../../server/devservers/radicale.ts';
import { DavClient } from '../../server/groupware/dav/client.ts';
import { DavSession } from '../../server/groupware/dav/http.ts';
import { ManageSieve } from '../../server/groupware/sieve/client.ts';
import { projectById } from '../../server/db/repos/projects.ts';
import { projectReport } from '../../server/services/report.ts';
import { mailboxPageModel } from '../../server/web/models/mailbox-page.ts';
import { startMigration, atStep, type Migration } from '../support/mailbox-migration.ts';
import { recurringEvent, vcard3 } from './corpus.ts';

const USER = 'alice@example.test';
const PASSWORD = 'alice-old-pw';
const VACATION = 'require ["vacation"];\r\nvacation :days 5 "En congés.";\r\n';

const dav = (r: RadicaleInstance, pass: string) => new DavClient(new DavSession({ url: r.url, tlsVerify: true, auth: { user: USER, pass } }));

describe('copy-groupware and delta-sync in the workflow (postfixadmin platforms, Radicale, Pigeonhole)', () => {
  let m: Migration;
  let oldDav: RadicaleInstance;
  let newDav: RadicaleInstance;
  let destPassword: string;

  before(async () => {
    [oldDav, newDav] = await Promise.all([startRadicale(), startRadicale()]);
    m = await startMigration({ accounts: [{ address: USER, password: PASSWORD }], old: { sieve: true }, new: { sieve: true }, options: { excludeCollections: ['Brouillon'] } });
    for (const [name, inst, r] of [['old', m.land.old, oldDav], ['new', m.land.new, newDav]] as const) {
      const row = await m.app.db('platforms').where({ name }).first();
      const config = JSON.parse(m.app.box.open(row.config_sealed));
      config.dav = { url: r.url };
      config.sieve = { host: inst.host, port: inst.sievePort, security: 'none' };
      await m.app.db('platforms').where({ name }).update({ config_sealed: m.app.box.seal(JSON.stringify(config)) });
    }
    const mailbox = await m.mailbox(USER);
    destPassword = m.app.box.open(mailbox.dest_password_sealed!);
    await m.app.db('mailboxes').where({ id: mailbox.id }).update({ source_password_sealed: m.app.box.seal(PASSWORD) });
    await oldDav.addUser(USER, PASSWORD);
    await newDav.addUser(USER, destPassword);
    const source = dav(oldDav, PASSWORD);
    const home = `/${USER}/`;
    await source.createCollection(`${home}agenda/`, { href: '', kind: 'calendar', displayName: 'Agenda', components: ['VEVENT'] });
    await source.createCollection(`${home}brouillon/`, { href: '', kind: 'calendar', displayName: 'Brouillon', components: ['VEVENT'] });
    await source.createCollection(`${home}carnet/`, { href: '', kind: 'addressbook', displayName: 'Carnet', components: [] });
    assert.equal((await source.put(`${home}agenda/standup.ics`, Buffer.from(recurringEvent), 'text/calendar', { ifNoneMatch: true })).ok, true);
    assert.equal((await source.put(`${home}carnet/zoe.vcf`, Buffer.from(vcard3), 'text/vcard', { ifNoneMatch: true })).ok, true);
    source.session.close();
    const sieve = await ManageSieve.connect({ host: '127.0.0.1', port: m.land.old.sievePort!, security: 'none', tlsVerify: true, auth: { user: USER, pass: PASSWORD } });
    assert.deepEqual(await sieve.putScript('conges', Buffer.from(VACATION)), { ok: true });
    await sieve.setActive('conges');
    await sieve.logout();
  });

  after(async () => {
    await m?.close();
    await Promise.all([oldDav?.stop(), newDav?.stop()]);
  });

  it('copy-groupware runs right after copy-mail and moves every collection but the excluded one', { timeout: 120_000 }, async () => {
    const row = await m.runUntil(USER, atStep('verify'));
    const event = await m.app.db('events').where({ mailbox_id: row.id, step: 'copy-groupware' }).orderBy('id', 'desc').first();
    assert.match(event.message, /^3 items copied in 3 collection\(s\); Brouillon: excluded \(left out in the project options\)/);
    const model = await mailboxPageModel(m.app, row.id);
    const byName = new Map(model.groupware.map((g) => [g.name, g]));
    assert.deepEqual([...byName.keys()].sort(), ['Agenda', 'Brouillon', 'Carnet', 'Mail filters and auto-reply (Sieve)']);
    assert.equal(byName.get('Agenda')!.copied, 1);
    assert.equal(byName.get('Carnet')!.copied, 1);
    assert.equal(byName.get('Brouillon')!.state, 'excluded');
    assert.equal(byName.get('Mail filters and auto-reply (Sieve)')!.copied, 1);
    const d = await ManageSieve.connect({ host: '127.0.0.1', port: m.land.new.sievePort!, security: 'none', tlsVerify: true, auth: { user: USER, pass: destPassword } });
    assert.deepEqual(await d.listScripts(), [{ name: 'conges', active: true }]);
    await d.logout();
  });

  it('delta-sync carries an edit made after the copy; the report lists the collections', { timeout: 120_000 }, async () => {
    const source = dav(oldDav, PASSWORD);
    const href = `/${USER}/carnet/zoe.vcf`;
    const got = await source.get(href, 100_000);
    assert.ok('data' in got);
    const edited = Buffer.from(got.data.toString('utf8').replace('FN:Zoë Ångström', 'FN:Zoë Ångström-Martin'));
    assert.equal((await source.put(href, edited, 'text/vcard', { ifMatch: got.etag! })).ok, true);
    source.session.close();
    const row = await m.runUntil(USER, (r) => r.state === 'done', 30);
    const dest = dav(newDav, destPassword);
    const copied = await dest.get(`/${USER}/carnet/zoe.vcf`, 100_000);
    dest.session.close();
    assert.ok('data' in copied && copied.data.toString('utf8').includes('FN:Zoë Ångström-Martin'));
    const report = await projectReport(m.app, await projectById(m.app.db, m.projectId));
    const mine = report.mailboxes.find((x) => x.id === row.id)!;
    assert.equal(mine.groupware.find((g) => g.name === 'Carnet')!.updated, 1);
  });
});
