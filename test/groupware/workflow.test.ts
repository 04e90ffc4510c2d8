// The groupware step in the real workflow: two postfixadmin platforms (Dovecot with Pigeonhole),
// each with its own Radicale, one mailbox migrated step by step by the runner. The old platform's
// DAV settings give no URL: the workflow finds its Radicale (TLS, pinned CA) through the domain's
// SRV record, asked of the project's name servers (a Knot here). copy-groupware
// moves the contacts, calendars and the active auto-reply; delta-sync carries an edit made
// afterwards; the mailbox page model (the JSON API) and the report show it per collection. The
// admin leaves a calendar out of this one mailbox through the page's form, and takes it back
// through the API: the copy and the delta pass follow.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Client, mountPanel } from '../web/client.ts';
import { startKnot, type KnotInstance } from '../../server/devservers/knot.ts';
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

const dav = (r: RadicaleInstance, pass: string) => new DavClient(new DavSession({ url: r.url, tlsVerify: true, ...(r.certFile && { ca: readFileSync(r.certFile, 'utf8') }), auth: { user: USER, pass } }));

describe('copy-groupware and delta-sync in the workflow (postfixadmin platforms, Radicale, Pigeonhole)', () => {
  let m: Migration;
  let oldDav: RadicaleInstance;
  let newDav: RadicaleInstance;
  let destPassword: string;
  let dns: KnotInstance;
  let panel: Awaited<ReturnType<typeof mountPanel>>;
  let client: Client;
  let mailboxId: number;

  before(async () => {
    [oldDav, newDav] = await Promise.all([startRadicale({ tls: true }), startRadicale()]);
    dns = await startKnot({ zone: 'example.test', records: [`_caldavs._tcp IN SRV 0 1 ${oldDav.port} localhost.`] });
    m = await startMigration({ accounts: [{ address: USER, password: PASSWORD }], old: { sieve: true }, new: { sieve: true }, options: { excludeCollections: ['Brouillon'], nameservers: [`127.0.0.1:${dns.port}`] } });
    for (const [name, inst, r] of [['old', m.land.old, oldDav], ['new', m.land.new, newDav]] as const) {
      const row = await m.app.db('platforms').where({ name }).first();
      const config = JSON.parse(m.app.box.open(row.config_sealed));
      config.dav = r.certFile ? { discover: true, caFile: r.certFile } : { url: r.url };
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
    await source.createCollection(`${home}perso/`, { href: '', kind: 'calendar', displayName: 'Perso', components: ['VEVENT'] });
    assert.equal((await source.put(`${home}perso/standup.ics`, Buffer.from(recurringEvent), 'text/calendar', { ifNoneMatch: true })).ok, true);
    assert.equal((await source.put(`${home}agenda/standup.ics`, Buffer.from(recurringEvent), 'text/calendar', { ifNoneMatch: true })).ok, true);
    assert.equal((await source.put(`${home}carnet/zoe.vcf`, Buffer.from(vcard3), 'text/vcard', { ifNoneMatch: true })).ok, true);
    source.session.close();
    const sieve = await ManageSieve.connect({ host: '127.0.0.1', port: m.land.old.sievePort!, security: 'none', tlsVerify: true, auth: { user: USER, pass: PASSWORD } });
    assert.deepEqual(await sieve.putScript('conges', Buffer.from(VACATION)), { ok: true });
    await sieve.setActive('conges');
    await sieve.logout();
    mailboxId = mailbox.id;

    panel = await mountPanel(m.app);
    client = new Client(panel.url);
    assert.equal((await client.login()).status, 303);
  });

  after(async () => {
    await panel?.close();
    await m?.close();
    await Promise.all([oldDav?.stop(), newDav?.stop(), dns?.stop()]);
  });

  it('the mailbox page lists the source\'s collections on request; unticking one leaves it out of this mailbox, persisted', { timeout: 60_000 }, async () => {
    const page = await client.request(`/mailboxes/${mailboxId}`);
    assert.match(page.text, new RegExp(`<a id="groupware-edit" href="/panel/mailboxes/${mailboxId}/collections">`));
    const before = await client.request(`/mailboxes/${mailboxId}/collections`);
    assert.equal(before.status, 200);
    assert.match(before.text, /data-collection="sieve:"/, 'the filters are always listed');
    assert.doesNotMatch(before.text, /perso/, 'the calendars are unknown until read from the source');
    const read = await client.request(`/mailboxes/${mailboxId}/collections?lookup=1`);
    assert.match(read.text, /id="lookup-done"/);
    const rows = [...read.text.matchAll(/<tr data-collection="([^"]+)">[\s\S]*?name="collection\.(\d+)"[\s\S]*?<\/tr>/g)].map((r) => ({ collection: r[1]!, index: r[2]!, html: r[0] }));
    assert.deepEqual(rows.map((r) => r.collection).sort(), [`/${USER}/agenda/`, `/${USER}/brouillon/`, `/${USER}/carnet/`, `/${USER}/perso/`, 'sieve:'].map((c) => c.replace('@', '%40')).sort());
    const brouillon = rows.find((r) => r.collection.endsWith('/brouillon/'))!;
    assert.match(brouillon.html, /disabled[\s\S]*left out by the project’s options/, 'the project\'s own exclusion is shown, not editable here');
    // The form as a browser posts it: every ticked box but Perso's, and a name typed by hand.
    const form: Record<string, string> = { _csrf: await client.token(`/mailboxes/${mailboxId}/collections`), count: String(rows.length), more: 'Archives 2019\n' };
    for (const r of rows) {
      form[`collection.${r.index}`] = r.collection;
      if (!r.collection.endsWith('/perso/')) form[`copy.${r.index}`] = 'yes';
    }
    const saved = await client.request(`/mailboxes/${mailboxId}/collections`, { form });
    assert.equal(saved.status, 303);
    const token = JSON.parse((await client.request('/api/session')).text).csrfToken;
    const api = JSON.parse((await client.request(`/api/mailboxes/${mailboxId}/collections`, { headers: { 'x-csrf-token': token } })).text);
    assert.deepEqual(api.mailboxExcluded, [`/${USER.replace('@', '%40')}/perso/`, 'Archives 2019']);
    assert.deepEqual(api.projectExcluded, ['Brouillon']);
    const event = await m.app.db('events').where({ mailbox_id: mailboxId, outcome: 'collections-edited' }).first();
    assert.match(event.message, /collections edited by web:root: left out: .*perso.*Archives 2019/);
  });

  it('copy-groupware runs right after copy-mail and moves every collection but the excluded ones', { timeout: 120_000 }, async () => {
    const row = await m.runUntil(USER, atStep('verify'));
    const event = await m.app.db('events').where({ mailbox_id: row.id, step: 'copy-groupware' }).orderBy('id', 'desc').first();
    assert.match(event.message, /^3 items copied in 3 collection\(s\); Brouillon: excluded \(left out in the project options\)/);
    const model = await mailboxPageModel(m.app, row.id);
    const byName = new Map(model.groupware.map((g) => [g.name, g]));
    assert.deepEqual([...byName.keys()].sort(), ['Agenda', 'Brouillon', 'Carnet', 'Mail filters and auto-reply (Sieve)', 'Perso']);
    assert.deepEqual([byName.get('Perso')!.state, byName.get('Perso')!.reason, byName.get('Perso')!.copied], ['excluded', 'left out for this mailbox', 0]);
    const onDest = dav(newDav, destPassword);
    assert.equal(await onDest.isCollection(`/${USER}/perso/`, 'calendar'), false, 'nothing of Perso on the destination');
    onDest.session.close();
    assert.equal(byName.get('Agenda')!.copied, 1);
    assert.equal(byName.get('Carnet')!.copied, 1);
    assert.equal(byName.get('Brouillon')!.state, 'excluded');
    assert.equal(byName.get('Mail filters and auto-reply (Sieve)')!.copied, 1);
    const d = await ManageSieve.connect({ host: '127.0.0.1', port: m.land.new.sievePort!, security: 'none', tlsVerify: true, auth: { user: USER, pass: destPassword } });
    assert.deepEqual(await d.listScripts(), [{ name: 'conges', active: true }]);
    await d.logout();
  });

  it('delta-sync carries an edit made after the copy, and a calendar the admin takes back through the API; the report lists the collections', { timeout: 120_000 }, async () => {
    const token = JSON.parse((await client.request('/api/session')).text).csrfToken;
    const put = await client.request(`/api/mailboxes/${mailboxId}/collections`, { method: 'PUT', json: { excluded: [] }, headers: { 'x-csrf-token': token } });
    assert.equal(put.status, 200, put.text);
    assert.deepEqual(JSON.parse(put.text).mailboxExcluded, []);
    const refused = await client.request(`/api/mailboxes/${mailboxId}/collections`, { method: 'PUT', json: { excluded: ['bad\u0001name'] }, headers: { 'x-csrf-token': token } });
    assert.equal(refused.status, 400);
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
    assert.deepEqual([mine.groupware.find((g) => g.name === 'Perso')!.state, mine.groupware.find((g) => g.name === 'Perso')!.copied], ['copied', 1], 'taken back: the delta pass copied it');
    const json = JSON.parse((await client.request(`/api/mailboxes/${row.id}`)).text);
    assert.deepEqual(json.groupware.map((g: { name: string; state: string }) => `${g.name}: ${g.state}`).sort(),
      ['Agenda: copied', 'Brouillon: excluded', 'Carnet: copied', 'Mail filters and auto-reply (Sieve): copied', 'Perso: copied']);
    const page = (await client.request(`/mailboxes/${row.id}`)).text;
    const table = /<table id="groupware-table">[\s\S]*?<\/table>/.exec(page)![0];
    for (const kind of ['Address book', 'Calendar', 'Filters and auto-reply']) assert.match(table, new RegExp(`<td>${kind}</td>`));
    assert.match(table, /<td>Carnet<\/td><td>Address book<\/td><td>copied<\/td>\s*<td>1 on the destination; last pass: 0 copied, 1 updated, 0 deleted, 0 skipped of 1<\/td>/);
    assert.match(table, /<td>Agenda<\/td><td>Calendar<\/td><td>copied<\/td>\s*<td>1 on the destination; last pass: 0 copied, 0 updated, 0 deleted, 0 skipped of 1<\/td>/);
    const mailboxReport = JSON.parse((await client.request(`/mailboxes/${row.id}/report.json`)).text);
    assert.equal(mailboxReport.groupware.find((g: { name: string }) => g.name === 'Perso').onDestination, 1);
    assert.match((await client.request(`/mailboxes/${row.id}/report`)).text, /<table id="report-groupware">[\s\S]*Mail filters and auto-reply \(Sieve\)/);
    process.stderr.write(`mailbox page, groupware table:\n${table.replace(/<[^>]+>/g, ' ').replace(/[ \t]+/g, ' ')}\n`);
  });
});
