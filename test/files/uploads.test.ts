// The panel's file import: resumable upload (offset protocol) streamed to disk, the form without
// JavaScript, the API with a token, the dry run and the import into the mailbox's destination
// (a real Dovecot for the mail, a real Radicale for contacts and calendars), and a Chromium run of
// the page that uploads Test_part1.pst and shows its dry run (screenshot kept).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startRadicale, type RadicaleInstance } from '../../server/devservers/radicale.ts';
import { settled, uploadsRoot } from '../../server/files/uploads.ts';
import { DavClient } from '../../server/groupware/dav/client.ts';
import { discoverHomes } from '../../server/groupware/dav/discovery.ts';
import { DavSession } from '../../server/groupware/dav/http.ts';
import { createToken } from '../../server/services/tokens.ts';
import { launchChromium } from '../support/browser.ts';
import { snapshot } from '../support/mail.ts';
import { atStep, startMigration, type Migration } from '../support/mailbox-migration.ts';
import { screenshotDir } from '../support/screenshots.ts';
import { ADMIN, Client, mountPanel } from '../web/client.ts';

const PST = path.join(import.meta.dirname, 'pst', 'Test_part1.pst');
const ALICE = { address: 'alice@example.test', password: 'alice-pw' };
let m: Migration;
let radicale: RadicaleInstance;
let panel: Awaited<ReturnType<typeof mountPanel>>;
let base: string;
let client: Client;
let mailbox: number;
let destPassword: string;

before(async () => {
  [m, radicale] = await Promise.all([startMigration({ accounts: [ALICE] }), startRadicale()]);
  const row = await m.app.db('platforms').where({ name: 'new' }).first();
  const config = JSON.parse(m.app.box.open(row.config_sealed));
  config.dav = { url: radicale.url };
  await m.app.db('platforms').where({ name: 'new' }).update({ config_sealed: m.app.box.seal(JSON.stringify(config)) });
  // The destination account exists once create-destination ran; the workflow is then left alone.
  const at = await m.runUntil(ALICE.address, atStep('copy-mail'));
  await m.app.db('mailboxes').where({ id: at.id }).update({ state: 'paused' });
  mailbox = at.id;
  destPassword = m.app.box.open(at.dest_password_sealed!);
  await radicale.addUser(ALICE.address, destPassword);
  panel = await mountPanel(m.app);
  base = panel.url;
  client = new Client(base);
  assert.equal((await client.login()).status, 303);
});
after(async () => {
  await panel?.close();
  await m?.close();
  await radicale?.stop();
});

async function csrf(): Promise<string> {
  return JSON.parse((await client.request('/api/session')).text).csrfToken;
}

/** A raw request with the session cookie: the body is written as given, or cut after `cutAfter` bytes. */
function raw(method: string, url: string, headers: Record<string, string>, body: Buffer, cutAfter?: number): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  const target = new URL(base + url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: target.hostname, port: target.port, path: target.pathname + target.search, method, headers: { cookie: client.cookie, ...headers } }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; }).on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text }));
    });
    req.on('error', (err) => (cutAfter === undefined ? reject(err) : resolve({ status: 0, headers: {}, text: String(err) })));
    if (cutAfter === undefined) { req.end(body); return; }
    // A connection that breaks mid-body: what was sent so far, then a reset.
    req.write(body.subarray(0, cutAfter), () => setTimeout(() => req.destroy(new Error('cut')), 200));
  });
}

async function destCounts(): Promise<Record<string, number>> {
  return Object.fromEntries((await snapshot(m.land.new, ALICE.address)).filter((f) => f.messages.length).map((f) => [f.path, f.messages.length]));
}

async function davCounts(): Promise<Record<string, number>> {
  const dav = new DavClient(new DavSession({ url: radicale.url, tlsVerify: true, auth: { user: ALICE.address, pass: destPassword } }));
  try {
    const out: Record<string, number> = {};
    for (const c of await dav.collections(await discoverHomes(dav))) {
      let n = 0;
      for await (const _ of dav.items(c.href)) n++;
      out[c.displayName ?? c.href] = n;
    }
    return out;
  } finally {
    dav.session.close();
  }
}

test('a resumable upload survives a cut connection, lands byte for byte, then the dry run and the import reach Dovecot and Radicale', { timeout: 180_000 }, async () => {
  const whole = readFileSync(PST);
  const token = await csrf();
  const created = await client.request(`/api/mailboxes/${mailbox}/uploads`, { json: { name: '../../evil/Test_part1.pst', size: whole.length }, headers: { 'x-csrf-token': token } });
  assert.equal(created.status, 201, created.text);
  const upload = JSON.parse(created.text) as { id: number; name: string };
  assert.equal(upload.name, 'Test_part1.pst', 'the name is only a name');
  assert.equal(created.headers.get('location'), `/panel/api/uploads/${upload.id}`);
  const patchHeaders = (offset: number) => ({ 'content-type': 'application/offset+octet-stream', 'upload-offset': String(offset), 'x-csrf-token': token });

  const first = await raw('PATCH', `/api/uploads/${upload.id}`, patchHeaders(0), whole.subarray(0, 1024 * 1024));
  assert.equal(first.status, 204, first.text);
  assert.equal(first.headers['upload-offset'], String(1024 * 1024));
  // The connection breaks 700 KB into the next chunk.
  await raw('PATCH', `/api/uploads/${upload.id}`, patchHeaders(1024 * 1024), whole.subarray(1024 * 1024), 700 * 1024);
  let offset = 0;
  for (let i = 0; i < 50; i++) {
    const head = await raw('HEAD', `/api/uploads/${upload.id}`, {}, Buffer.alloc(0));
    offset = Number(head.headers['upload-offset']);
    if (offset >= 1024 * 1024 + 700 * 1024) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(offset, 1024 * 1024 + 700 * 1024, 'what reached the disk before the cut is kept');
  const wrong = await raw('PATCH', `/api/uploads/${upload.id}`, patchHeaders(0), whole.subarray(0, 10));
  assert.equal(wrong.status, 409, 'a PATCH from another offset than the server has is refused');
  assert.match(wrong.text, /UPLOAD_OFFSET/);
  const rest = await raw('PATCH', `/api/uploads/${upload.id}`, patchHeaders(offset), whole.subarray(offset));
  assert.equal(rest.status, 204, rest.text);
  const onDisk = path.join(uploadsRoot(m.app), String(upload.id), 'Test_part1.pst');
  assert.ok(readFileSync(onDisk).equals(whole), 'byte for byte');
  assert.equal(statSync(onDisk).mode & 0o777, 0o600);
  assert.deepEqual(readdirSync(uploadsRoot(m.app)).filter((n) => !/^\d+$/.test(n)), [], 'nothing but upload directories');

  const dry = await client.request(`/api/uploads/${upload.id}/dry-run`, { method: 'POST', headers: { 'x-csrf-token': token } });
  assert.equal(dry.status, 202, dry.text);
  await settled(upload.id);
  const checked = JSON.parse((await client.request(`/api/uploads/${upload.id}`)).text);
  assert.equal(checked.state, 'checked', checked.error);
  const kinds = Object.fromEntries(checked.plan.collections.map((c: { source: string; items: number }) => [c.source, c.items]));
  assert.deepEqual(kinds, { Calendar: 9, Contacts: 21 });
  assert.deepEqual(await destCounts(), {}, 'a dry run writes nothing');

  const page = await client.request(`/mailboxes/${mailbox}/files/${upload.id}`);
  assert.match(page.text, /Dry run: what the file holds/);
  assert.match(page.text, /21 contacts/);
  assert.match(page.text, /Margaret J\. Tolle/);

  const run = await client.request(`/api/uploads/${upload.id}/import`, { method: 'POST', headers: { 'x-csrf-token': token } });
  assert.equal(run.status, 202);
  await settled(upload.id);
  const imported = JSON.parse((await client.request(`/api/uploads/${upload.id}`)).text);
  assert.equal(imported.state, 'imported', imported.error);
  assert.ok((await destCounts()).Sent >= 30, `readpst reads 30 from Sent Items: ${JSON.stringify(await destCounts())}`);
  assert.deepEqual(await davCounts(), { Calendar: 9, Contacts: 21 });
  const mailboxPage = await client.request(`/mailboxes/${mailbox}`);
  assert.match(mailboxPage.text, new RegExp(`<tr data-upload="${upload.id}" data-state="imported">`));
  assert.match(mailboxPage.text, /31 messages imported \(0 already there\), 30 contacts, events and tasks imported/);
  console.log(`upload figures: ${JSON.stringify({ mail: await destCounts(), dav: await davCounts() })}`);
});

test('limits and refusals: size over the limit, past the announced size, no CSRF token, unknown upload', { timeout: 60_000 }, async () => {
  const token = await csrf();
  const huge = await client.request(`/api/mailboxes/${mailbox}/uploads`, { json: { name: 'big.mbox', size: 1e15 }, headers: { 'x-csrf-token': token } });
  assert.equal(huge.status, 413);
  assert.match(huge.text, /UPLOAD_TOO_LARGE/);
  const noCsrf = await client.request(`/api/mailboxes/${mailbox}/uploads`, { json: { name: 'a.mbox', size: 10 } });
  assert.equal(noCsrf.status, 403);
  const small = JSON.parse((await client.request(`/api/mailboxes/${mailbox}/uploads`, { json: { name: 'a.mbox', size: 10 }, headers: { 'x-csrf-token': token } })).text);
  const tooMuch = await raw('PATCH', `/api/uploads/${small.id}`, { 'content-type': 'application/offset+octet-stream', 'upload-offset': '0', 'x-csrf-token': token }, Buffer.alloc(20, 65));
  assert.equal(tooMuch.status, 413);
  const patchNoCsrf = await raw('PATCH', `/api/uploads/${small.id}`, { 'content-type': 'application/offset+octet-stream', 'upload-offset': '0' }, Buffer.alloc(5, 65));
  assert.equal(patchNoCsrf.status, 403);
  assert.equal((await client.request('/api/uploads/999999')).status, 404);
});

test('the form without JavaScript (multipart, streamed) and the API with a token both upload and start the dry run; a form without its token writes nothing', { timeout: 120_000 }, async () => {
  const mbox = Buffer.from('From a@example.test Mon Jan  2 10:00:00 2023\nFrom: a@example.test\nSubject: one\n\nbody\n\nFrom b@example.test Mon Jan  2 10:00:00 2023\nFrom: b@example.test\nSubject: two\n\n>From the escaped line\n');
  const before = readdirSync(uploadsRoot(m.app)).length;
  const form = (fields: Array<[string, string]>) => {
    const fd = new FormData();
    for (const [k, v] of fields) fd.append(k, v);
    fd.append('file', new Blob([mbox]), 'Archive.mbox');
    return fd;
  };
  const refused = await fetch(`${base}/mailboxes/${mailbox}/files`, { method: 'POST', body: form([['_csrf', 'forged']]), headers: { cookie: client.cookie }, redirect: 'manual' });
  assert.equal(refused.status, 403);
  assert.equal(readdirSync(uploadsRoot(m.app)).length, before, 'a forged upload never reaches the disk');
  const pageToken = await client.token(`/mailboxes/${mailbox}/files`);
  const posted = await fetch(`${base}/mailboxes/${mailbox}/files`, { method: 'POST', body: form([['_csrf', pageToken]]), headers: { cookie: client.cookie }, redirect: 'manual' });
  assert.equal(posted.status, 303);
  const id = Number(/files\/(\d+)$/.exec(posted.headers.get('location')!)![1]);
  await settled(id);
  const checked = JSON.parse((await client.request(`/api/uploads/${id}`)).text);
  assert.equal(checked.state, 'checked', checked.error);
  assert.equal(checked.plan.messages, 2);
  assert.equal(checked.plan.folders[0].source, 'Archive');

  const { token } = await createToken(m.app.db, ADMIN.name, 'uploader');
  const api = await fetch(`${base}/api/mailboxes/${mailbox}/files`, { method: 'POST', body: form([]), headers: { authorization: `Bearer ${token}` } });
  assert.equal(api.status, 201);
  const [viaApi] = (await api.json() as { uploads: Array<{ id: number; name: string }> }).uploads;
  assert.equal(viaApi!.name, 'Archive.mbox');
  await settled(viaApi!.id);
  const done = await fetch(`${base}/api/uploads/${viaApi!.id}/import`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  assert.equal(done.status, 202);
  await settled(viaApi!.id);
  assert.equal((await destCounts()).Archive, 2);

  // The project's page of file imports: every mailbox with its files and their outcome.
  const project = await client.request(`/projects/${m.projectId}/files`);
  assert.equal(project.status, 200);
  assert.match(project.text, new RegExp(`<tr data-mailbox="${mailbox}" data-upload="${viaApi!.id}" data-state="imported">`));
  assert.match(project.text, /2 messages imported \(0 already there\)/);
  assert.match((await client.request(`/projects/${m.projectId}`)).text, /id="files-link"/);
  const json = JSON.parse((await fetch(`${base}/api/projects/${m.projectId}/files`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.text())));
  assert.equal(json.mailboxes[0].address, ALICE.address);
});

test('Chromium: the page uploads Test_part1.pst in chunks with progress and shows its dry run (screenshot)', { timeout: 180_000 }, async () => {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(`${base}/login`);
    await page.fill('#name', ADMIN.name);
    await page.fill('#password', ADMIN.password);
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit] >> text=Log in')]);
    await page.goto(`${base}/mailboxes/${mailbox}/files`);
    await page.setInputFiles('#upload-files', PST);
    await Promise.all([page.waitForURL(/\/files\/\d+$/, { timeout: 120_000 }), page.click('#upload-button')]);
    await page.waitForSelector('#dry-run', { timeout: 120_000 });
    assert.match(await page.textContent('#dry-run-summary') ?? '', /31 messages, 30 contacts, events and tasks/);
    const shot = path.join(screenshotDir(), 'file-import-dry-run-Test_part1.png');
    await page.screenshot({ path: shot, fullPage: true });
    assert.ok(statSync(shot).size > 10_000);
    console.log(`screenshot: ${shot}`);
  } finally {
    await browser.cleanup();
  }
});
