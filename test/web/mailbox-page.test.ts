import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { after, before, test } from 'node:test';
import express from 'express';
import { insertUser } from '../../server/db/repos/users.ts';
import { createPanel } from '../../server/panel.ts';
import { hashPassword } from '../../server/web/passwords.ts';
import { imapAs, rawMessage, seed } from '../support/mail.ts';
import { atStep, startMigration, type Migration } from '../support/mailbox-migration.ts';
import { ADMIN, Client } from './client.ts';

const ALICE = { address: 'alice@example.test', password: 'alice-pw' };
const BOB = { address: 'bob@example.test', password: 'bob-pw' };
let m: Migration;
let server: Server;
let client: Client;
let alice: number;
let bob: number;

const msg = (folder: string, subject: string, body = `Body of ${subject}\r\n`) => ({ folder, raw: rawMessage({ subject, body }), flags: [] as string[], date: new Date('2024-10-03T10:00:00Z') });

async function destCount(address: string, folder: string): Promise<number> {
  const imap = await imapAs(m.land.new, address);
  try {
    const status = await imap.status(folder, { messages: true });
    return status ? status.messages ?? 0 : -1;
  } finally {
    await imap.logout();
  }
}

before(async () => {
  m = await startMigration({ accounts: [ALICE, BOB] });
  await seed(m.land.old, ALICE.address, [msg('INBOX', 'a1', 'x'.repeat(20_000)), msg('INBOX', 'a2'), msg('Archive', 'a3', 'y'.repeat(5_000))]);
  await seed(m.land.old, BOB.address, [msg('INBOX', 'b1'), msg('Lists', 'b2'), msg('Lists/Old', 'b3')]);
  await m.runUntil(ALICE.address, atStep('delta-sync'));
  await seed(m.land.old, 'alice01@example.test', [msg('INBOX', 'late 1'), msg('Archive', 'late 2')]);
  await m.runUntil(ALICE.address, (row) => row.sync_passes === 2);
  // Bob stops after preflight: his plan is still open to changes.
  await m.runUntil(BOB.address, atStep('attach-domain'));
  await m.app.db('mailboxes').where({ address: BOB.address }).update({ state: 'paused' });
  alice = (await m.mailbox(ALICE.address)).id;
  bob = (await m.mailbox(BOB.address)).id;

  await insertUser(m.app.db, ADMIN.name, await hashPassword(ADMIN.password));
  const host = express();
  host.use('/panel', createPanel(m.app));
  server = await new Promise((resolve) => { const s = host.listen(0, '127.0.0.1', () => resolve(s)); });
  client = new Client(`http://127.0.0.1:${(server.address() as { port: number }).port}/panel`);
  assert.equal((await client.login()).status, 303);
});
after(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  await m?.close();
});

const csrfOf = async (path: string) => client.token(path);
const api = async (path: string, init: { method?: string; json?: unknown } = {}) => {
  const token = JSON.parse((await client.request('/api/session')).text).csrfToken;
  const res = await client.request(path, { ...init, headers: { 'x-csrf-token': token } });
  return { status: res.status, body: JSON.parse(res.text) };
};

test('the mailbox page shows the folder plan with per-folder progress, bytes, sync points and client settings without a secret', async () => {
  const page = await client.request(`/mailboxes/${alice}`);
  assert.equal(page.status, 200);
  const inbox = /<tr data-folder="INBOX" data-copied="3"[^]*?<\/tr>/.exec(page.text)?.[0];
  assert.ok(inbox, 'INBOX row with its copied count');
  assert.match(inbox, /<progress max="100" value="100">/);
  assert.match(inbox, /3 \/ 3 messages/, 'per folder: copied / preflight count');
  assert.match(page.text, /Fixed when the copy started/);
  assert.match(page.text, /id="mailbox-progress">[^<]*<progress max="100" value="\d+">/);
  assert.match(page.text, /\d+(\.\d)? KB of \d+(\.\d)? KB/, 'bytes copied of bytes planned');
  assert.match(page.text, /<tr data-pass="1"><td>1<\/td><td>copy-mail<\/td>/);
  assert.match(page.text, /<tr data-pass="2"><td>2<\/td><td>delta-sync<\/td>/);
  assert.match(page.text, new RegExp(`href="/panel/mailboxes/${alice}/rollback\\?since=2"`));

  const settings = /<table id="client-settings">[^]*?<\/table>/.exec(page.text)![0];
  assert.match(settings, /alice@example\.test/);
  assert.match(settings, /Server: <strong>127\.0\.0\.1<\/strong>/);
  assert.match(settings, new RegExp(`Port: <strong>${m.land.new.port}</strong>`));
  assert.match(settings, /none \(not encrypted\)/);
  assert.match(settings, /does not publish it/, 'no submission SRV record: said so, not guessed');
  const row = await m.mailbox(ALICE.address);
  const secrets = [m.land.new.masterPassword, m.land.old.masterPassword, m.app.box.open(row.dest_password_sealed!)];
  for (const secret of secrets) assert.ok(!page.text.includes(secret), 'no password on the page');

  const json = await api(`/api/mailboxes/${alice}/client-settings`);
  assert.equal(json.status, 200);
  assert.deepEqual(json.body.imap, { host: '127.0.0.1', port: m.land.new.port, security: 'none', from: 'connector' });
  assert.equal(json.body.userName, ALICE.address);
  for (const secret of secrets) assert.ok(!JSON.stringify(json.body).includes(secret), 'no password in the API either');

  const french = await client.request('/language', { form: { _csrf: await client.token(`/mailboxes/${alice}`), lang: 'fr', back: `/panel/mailboxes/${alice}` } });
  assert.equal(french.status, 303);
  const pageFr = await client.request(`/mailboxes/${alice}`);
  assert.match(pageFr.text, /Réglages du logiciel de messagerie/);
  assert.match(pageFr.text, /Ko sur \d+(\.\d)? Ko/);
  await client.request('/language', { form: { _csrf: await client.token(`/mailboxes/${alice}`), lang: 'en', back: '/panel/' } });
});

test('every form of the mailbox pages carries the CSRF token', async () => {
  for (const path of [`/mailboxes/${alice}`, `/mailboxes/${bob}/folders`, `/mailboxes/${alice}/rollback?since=2`]) {
    const page = await client.request(path);
    assert.equal(page.status, 200, path);
    const forms = [...page.text.matchAll(/<form method="post"[^>]*>([^]*?)<\/form>/g)];
    assert.ok(forms.length > 0, path);
    for (const form of forms) assert.match(form[1]!, /<input type="hidden" name="_csrf" value="[^"]+">/, `${path}: ${form[0].slice(0, 80)}`);
  }
});

test('the folder plan form: per-field errors, then a saved plan, recorded in the timeline; the API says the same', async () => {
  const form = await client.request(`/mailboxes/${bob}/folders`);
  assert.equal(form.status, 200);
  const fields = Object.fromEntries([...form.text.matchAll(/name="source\.(\d+)" value="([^"]+)"/g)].map((x) => [x[2]!, x[1]!]));
  assert.deepEqual(Object.keys(fields).sort(), ['Drafts', 'INBOX', 'Junk', 'Lists', 'Lists/Old', 'Sent', 'Trash']);
  const body = (changes: Record<string, { include?: boolean; dest: string }>) => {
    const out: Record<string, string> = { _csrf: '', count: String(Object.keys(fields).length) };
    for (const [source, i] of Object.entries(fields)) {
      out[`source.${i}`] = source;
      const c = changes[source] ?? { dest: source };
      if (c.include !== false) out[`include.${i}`] = 'yes';
      out[`dest.${i}`] = c.dest;
    }
    return out;
  };
  const bad = await client.request(`/mailboxes/${bob}/folders`, { form: { ...body({ Lists: { dest: 'sent' }, 'Lists/Old': { dest: 'bad\u0001name' } }), _csrf: await csrfOf(`/mailboxes/${bob}/folders`) } });
  assert.equal(bad.status, 400);
  assert.match(bad.text, /The plan was not saved/);
  assert.match(/<tr data-folder="Lists" class="error">[^]*?<\/tr>/.exec(bad.text)![0], /Same destination as Sent\./);
  assert.match(/<tr data-folder="Lists\/Old" class="error">[^]*?<\/tr>/.exec(bad.text)![0], /No control characters\./);
  assert.equal((await m.app.db('mailboxes').where({ id: bob }).first()).folder_plan_override, null);

  const ok = await client.request(`/mailboxes/${bob}/folders`, { form: { ...body({ Junk: { include: false, dest: 'Junk' }, Lists: { dest: 'Mailing lists' } }), _csrf: await csrfOf(`/mailboxes/${bob}/folders`) } });
  assert.equal(ok.status, 303);
  const page = await client.request(`/mailboxes/${bob}`);
  assert.match(page.text, /Folder plan saved\./);
  assert.match(/<tr data-folder="Lists\/Old"[^]*?<\/tr>/.exec(page.text)![0], /Mailing lists\/Old/, 'the subfolder follows its renamed parent');
  assert.match(page.text, /<td>plan-edited<\/td><td>folder plan edited by web:root: [^<]*Lists → Mailing lists/);

  // The form as shown, submitted with only the parent renamed again: the untouched subfolder follows it again.
  const shown = await client.request(`/mailboxes/${bob}/folders`);
  const formFields: Record<string, string> = { _csrf: await csrfOf(`/mailboxes/${bob}/folders`) };
  for (const input of shown.text.matchAll(/<input type="(?:hidden|text|checkbox)" name="([^"]+)" value="([^"]*)"([^>]*)>/g)) {
    if (input[1] === '_csrf' || (input[0].includes('type="checkbox"') && !input[3]!.includes('checked'))) continue;
    formFields[input[1]!] = input[2]!.replace(/&#x2F;/g, '/');
  }
  assert.equal(formFields[`dest.${fields['Lists/Old']}`], 'Mailing lists/Old');
  formFields[`dest.${fields.Lists}`] = 'Lists 2024';
  assert.equal((await client.request(`/mailboxes/${bob}/folders`, { form: formFields })).status, 303);
  const again = await api(`/api/mailboxes/${bob}/folders`);
  assert.equal(again.body.folders.find((f: { source: string }) => f.source === 'Lists/Old').dest, 'Lists 2024/Old');
  assert.equal(again.body.folders.find((f: { source: string }) => f.source === 'Junk').excluded, true, 'the unticked box stays unticked');
  formFields[`dest.${fields.Lists}`] = 'Mailing lists';
  assert.equal((await client.request(`/mailboxes/${bob}/folders`, { form: { ...formFields, _csrf: await csrfOf(`/mailboxes/${bob}/folders`) } })).status, 303);

  const view = await api(`/api/mailboxes/${bob}/folders`);
  assert.equal(view.body.editable, true);
  assert.deepEqual(view.body.folders.filter((f: { edited: boolean }) => f.edited).map((f: { source: string; dest: string; excluded: boolean }) => [f.source, f.dest, f.excluded]), [['Junk', 'Junk', true], ['Lists', 'Mailing lists', false]]);
  const invalid = await api(`/api/mailboxes/${bob}/folders`, { method: 'PUT', json: { folders: [{ source: 'INBOX', excluded: false, dest: 'Boîte' }, { source: 'Lists', excluded: false, dest: 'Sent' }] } });
  assert.equal(invalid.status, 400);
  assert.equal(invalid.body.error.code, 'FOLDER_PLAN_INVALID');
  assert.deepEqual(invalid.body.error.fields.map((f: { source: string; problem: string }) => [f.source, f.problem]), [['INBOX', 'inboxStays'], ['Lists', 'collision']]);
  const malformed = await api(`/api/mailboxes/${bob}/folders`, { method: 'PUT', json: { folders: [{ source: 'INBOX', dest: 3 }] } });
  assert.equal(malformed.status, 400);
  assert.equal(malformed.body.error.code, 'INPUT_INVALID');
  const reset = await api(`/api/mailboxes/${bob}/folders`, { method: 'PUT', json: { folders: [] } });
  assert.equal(reset.status, 200);
  assert.ok(reset.body.folders.every((f: { edited: boolean }) => !f.edited), 'an empty plan goes back to the automatic one');

  // Alice's copy has begun: her plan is fixed, on the page and through the API.
  assert.equal((await client.request(`/mailboxes/${alice}/folders`)).status, 303);
  const locked = await api(`/api/mailboxes/${alice}/folders`, { method: 'PUT', json: { folders: [] } });
  assert.equal(locked.status, 409);
  assert.deepEqual([locked.body.error.code, locked.body.error.lock], ['FOLDER_PLAN_LOCKED', 'copyBegun']);
});

test('rollback through the pages: a confirmation page with the count per folder; without the box ticked nothing is deleted', async () => {
  const confirm = await client.request(`/mailboxes/${alice}/rollback?since=2`);
  assert.equal(confirm.status, 200);
  assert.match(confirm.text, /2 message\(s\) \(\d+ B\) copied to the destination since sync point 2/);
  assert.match(confirm.text, /<tr data-folder="Archive"><td>Archive<\/td><td>1<\/td>/);
  assert.match(confirm.text, /<tr data-folder="INBOX"><td>INBOX<\/td><td>1<\/td>/);

  const unticked = await client.request(`/mailboxes/${alice}/rollback`, { form: { _csrf: await csrfOf(`/mailboxes/${alice}/rollback?since=2`), since: '2' } });
  assert.equal(unticked.status, 303);
  assert.match(unticked.headers.get('location')!, /\/rollback\?since=2$/);
  assert.deepEqual([await destCount(ALICE.address, 'INBOX'), await destCount(ALICE.address, 'Archive')], [3, 2]);
  const apiUnconfirmed = await api(`/api/mailboxes/${alice}/rollback`, { method: 'POST', json: { since: 2 } });
  assert.deepEqual([apiUnconfirmed.status, apiUnconfirmed.body.error.code], [400, 'CONFIRMATION_REQUIRED']);
  assert.deepEqual([await destCount(ALICE.address, 'INBOX'), await destCount(ALICE.address, 'Archive')], [3, 2]);

  const ticked = await client.request(`/mailboxes/${alice}/rollback`, { form: { _csrf: await csrfOf(`/mailboxes/${alice}/rollback?since=2`), since: '2', confirm: 'yes' } });
  assert.equal(ticked.status, 303);
  assert.match((await client.request(`/mailboxes/${alice}`)).text, /2 message\(s\) deleted on the destination \(0 were already gone\)/);
  assert.deepEqual([await destCount(ALICE.address, 'INBOX'), await destCount(ALICE.address, 'Archive')], [2, 1]);

  const points = await api(`/api/mailboxes/${alice}/sync-points`);
  assert.deepEqual(points.body.map((p: { pass: number; messages: number; rolledBackAt: string | null }) => [p.pass, p.messages, Boolean(p.rolledBackAt)]), [[1, 3, false], [2, 0, true]]);
  const unknown = await api(`/api/mailboxes/${alice}/rollback`, { method: 'POST', json: { since: 7, confirm: true } });
  assert.deepEqual([unknown.status, unknown.body.error.code], [404, 'SYNC_POINT_UNKNOWN']);
});

test('rollback through the API is refused while a worker holds the mailbox', async () => {
  await m.app.db('mailboxes').where({ id: alice }).update({ locked_by: 'elsewhere:1:x', locked_until: Date.now() + 60_000 });
  try {
    const busy = await api(`/api/mailboxes/${alice}/rollback`, { method: 'POST', json: { since: 1, confirm: true } });
    assert.deepEqual([busy.status, busy.body.error.code], [409, 'MAILBOX_BUSY']);
    assert.match(busy.body.error.message, /being worked on/);
    assert.match((await client.request(`/mailboxes/${alice}`)).text, /A worker is on this mailbox right now\./);
  } finally {
    await m.app.db('mailboxes').where({ id: alice }).update({ locked_by: null, locked_until: null });
  }
  assert.equal(await destCount(ALICE.address, 'INBOX'), 2);
});
