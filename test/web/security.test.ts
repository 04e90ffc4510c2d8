import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { insertMailbox, insertProject } from '../db/fixtures.ts';
import { ADMIN, Client, startPanel } from './client.ts';

let panel: Awaited<ReturnType<typeof startPanel>>;
let mailboxId: number;

before(async () => {
  panel = await startPanel({ loginAttempts: 3, loginWindowMs: 60_000 });
  const where = await insertProject(panel.app.db);
  mailboxId = await insertMailbox(panel.app.db, where, 'carol@example.test');
});
after(async () => { await panel?.close(); });

test('a logged-out visitor reaches no page and no API route, only the login page', async () => {
  const anon = new Client(panel.url);
  for (const path of ['/', `/mailboxes/${mailboxId}`, '/projects/1', '/nowhere']) {
    const res = await anon.request(path);
    assert.equal(res.status, 303, path);
    assert.match(res.headers.get('location')!, /^\/panel\/login\?next=/, path);
  }
  for (const path of ['/api/projects', `/api/mailboxes/${mailboxId}`]) assert.equal((await anon.request(path)).status, 401, path);
  const token = await anon.token();
  const posted = await anon.request(`/api/mailboxes/${mailboxId}/actions/pause`, { method: 'POST', headers: { 'x-csrf-token': token } });
  assert.equal(posted.status, 401);
  assert.equal((await panel.app.db('mailboxes').where({ id: mailboxId }).first()).state, 'queued');
  assert.equal((await anon.request('/login')).status, 200);
});

test('login sets an httpOnly, sameSite session cookie stored in the database, and helmet headers are on', async () => {
  const client = new Client(panel.url);
  const page = await client.request('/login');
  assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
  assert.match(page.headers.get('content-security-policy')!, /script-src 'self'/);
  assert.equal(page.headers.get('x-frame-options'), 'SAMEORIGIN');
  const res = await fetch(`${panel.url}/login`, {
    method: 'POST', redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: client.cookie },
    body: new URLSearchParams({ _csrf: await client.token(), name: ADMIN.name, password: ADMIN.password }),
  });
  assert.equal(res.status, 303);
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('cutover.sid='))!;
  assert.match(cookie, /HttpOnly/);
  assert.match(cookie, /SameSite=Lax/);
  assert.doesNotMatch(cookie, /Secure/, 'plain HTTP on 127.0.0.1: not secure; behind TLS it is');
  const sid = decodeURIComponent(/^cutover\.sid=s:([^.;]+)/.exec(decodeURIComponent(cookie))![1]!);
  const row = await panel.app.db('sessions').where({ sid }).first();
  assert.equal(JSON.parse(row.sess).userName, ADMIN.name, 'the session is a database row');
  client.cookie = cookie.split(';')[0]!;
  const home = await client.request('/');
  assert.equal(home.status, 200);
  assert.match(home.text, /Signed in as root/);
});

test('a form post without a valid CSRF token is refused and changes nothing', async () => {
  const client = new Client(panel.url);
  assert.equal((await client.login()).status, 303);
  const none = await client.request(`/mailboxes/${mailboxId}/actions`, { form: { action: 'pause' } });
  assert.equal(none.status, 403);
  assert.match(none.text, /did not come from this panel/);
  const wrong = await client.request(`/mailboxes/${mailboxId}/actions`, { form: { action: 'pause', _csrf: 'x'.repeat(64) } });
  assert.equal(wrong.status, 403);
  const api = await client.request(`/api/mailboxes/${mailboxId}/actions/pause`, { method: 'POST' });
  assert.equal(api.status, 403);
  assert.equal(JSON.parse(api.text).error.code, 'CSRF_INVALID');
  const login = await new Client(panel.url).request('/login', { form: { name: ADMIN.name, password: ADMIN.password } });
  assert.equal(login.status, 403, 'the login form is CSRF-protected too');
  assert.equal((await panel.app.db('mailboxes').where({ id: mailboxId }).first()).state, 'queued');

  // The same post with the page's token goes through, and the event names the admin.
  const ok = await client.request(`/mailboxes/${mailboxId}/actions`, { form: { action: 'pause', _csrf: await client.token(`/mailboxes/${mailboxId}`) } });
  assert.equal(ok.status, 303);
  assert.equal((await panel.app.db('mailboxes').where({ id: mailboxId }).first()).state, 'paused');
  assert.equal((await panel.app.db('events').where({ mailbox_id: mailboxId }).orderBy('id', 'desc').first()).actor, 'web:root');
  await panel.app.db('mailboxes').where({ id: mailboxId }).update({ state: 'queued' });
});

test('wrong passwords are refused, and after the limit even the right one waits, with a clear message', async () => {
  const client = new Client(panel.url, { 'x-forwarded-for': 'ignored' });
  const unknown = await client.login('nobody', 'whatever-password');
  assert.equal(unknown.status, 401);
  assert.match(unknown.text, /Wrong admin name or password\./);
  for (let i = 0; i < 3; i++) assert.equal((await client.login(ADMIN.name, 'wrong password')).status, 401);
  const limited = await client.login();
  assert.equal(limited.status, 429);
  assert.match(limited.text, /Too many failed logins\. Wait 1 minute\(s\) before trying again\./);
  assert.ok(Number(limited.headers.get('retry-after')) > 0);
  assert.equal((await client.request('/')).status, 303, 'still logged out');
});

test('logout ends the session', async () => {
  const client = new Client(panel.url);
  // The rate limit above is per address: this client logs in from the same 127.0.0.1, so clear it first.
  const limiterFreed = await startPanel();
  try {
    const fresh = new Client(limiterFreed.url);
    assert.equal((await fresh.login()).status, 303);
    assert.equal((await fresh.request('/')).status, 200);
    const out = await fresh.request('/logout', { form: { _csrf: await fresh.token('/') } });
    assert.equal(out.status, 303);
    assert.equal((await fresh.request('/')).status, 303);
    assert.match((await fresh.request('/login')).text, /You are logged out\./);
  } finally {
    await limiterFreed.close();
  }
  assert.equal((await client.request('/')).status, 303);
});
