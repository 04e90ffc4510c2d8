import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createToken, hashToken } from '../../server/services/tokens.ts';
import { insertMailbox, insertProject } from '../db/fixtures.ts';
import { ADMIN, Client, startPanel } from './client.ts';

let panel: Awaited<ReturnType<typeof startPanel>>;
let mailboxId: number;
let projectId: number;

before(async () => {
  panel = await startPanel();
  const where = await insertProject(panel.app.db);
  projectId = where.projectId;
  mailboxId = await insertMailbox(panel.app.db, where, 'tina@example.test');
});
after(async () => { await panel?.close(); });

const bearer = (token: string) => new Client(panel.url, { authorization: `Bearer ${token}` });
const state = async () => (await panel.app.db('mailboxes').where({ id: mailboxId }).first()).state;

test('a token works on /api without a session or CSRF header, and sets no cookie', async () => {
  const { token } = await createToken(panel.app.db, ADMIN.name, 'ci');
  const script = bearer(token);
  const session = await script.request('/api/session');
  assert.equal(session.status, 200, session.text);
  assert.equal(JSON.parse(session.text).user, 'root (token ci)');
  assert.equal(session.headers.getSetCookie().length, 0, 'no session cookie for a token request');
  assert.equal((await script.request('/api/projects')).status, 200);

  const paused = await script.request(`/api/mailboxes/${mailboxId}/actions/pause`, { method: 'POST' });
  assert.equal(paused.status, 200, paused.text);
  assert.equal(await state(), 'paused');
  const event = await panel.app.db('events').where({ mailbox_id: mailboxId }).orderBy('id', 'desc').first();
  assert.equal(event.actor, 'web:root (token ci)', 'the event says which admin and which token');
  const bulk = await script.request(`/api/projects/${projectId}/actions/resume`, { method: 'POST', json: {} });
  assert.equal(bulk.status, 200, bulk.text);
  assert.equal(await state(), 'queued');
  const row = await panel.app.db('api_tokens').where({ name: 'ci' }).first();
  assert.ok(row.last_used_at, 'last use is stamped');
});

test('the token is not stored in clear: only its SHA-256', async () => {
  const { id, token } = await createToken(panel.app.db, ADMIN.name, 'stored');
  assert.match(token, /^cutover_[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url');
  const row = await panel.app.db('api_tokens').where({ id }).first();
  assert.equal(row.token_hash, hashToken(token));
  assert.match(row.token_hash, /^[0-9a-f]{64}$/);
  const dump = JSON.stringify(await panel.app.db('api_tokens').select());
  assert.ok(!dump.includes(token) && !dump.includes(token.slice(8)), 'the token appears nowhere in the table');
});

test('tokens are refused on pages: they stay a session-only area', async () => {
  const { token } = await createToken(panel.app.db, ADMIN.name, 'pages');
  for (const path of ['/', `/mailboxes/${mailboxId}`, '/settings/tokens', '/audit']) {
    const res = await bearer(token).request(path);
    assert.equal(res.status, 303, path);
    assert.match(res.headers.get('location')!, /\/login\?next=/, path);
  }
  const form = await bearer(token).request(`/mailboxes/${mailboxId}/actions`, { form: { action: 'pause' } });
  assert.equal(form.status, 403, 'a page POST with only a token is a CSRF failure, not a token login');
  assert.equal(await state(), 'queued');
});

test('a wrong or revoked token gets 401 with a JSON error, even with a valid session cookie alongside', async () => {
  const wrong = await bearer('cutover_' + 'A'.repeat(43)).request('/api/projects');
  assert.equal(wrong.status, 401);
  assert.deepEqual(JSON.parse(wrong.text).error.code, 'TOKEN_INVALID');
  assert.equal((await bearer('not-even-a-token').request('/api/projects')).status, 401);

  const { id, token } = await createToken(panel.app.db, ADMIN.name, 'short-lived');
  assert.equal((await bearer(token).request('/api/projects')).status, 200);
  const admin = new Client(panel.url);
  assert.equal((await admin.login()).status, 303);
  const revoked = await admin.request(`/settings/tokens/${id}/revoke`, { form: { _csrf: await admin.token('/settings/tokens') } });
  assert.equal(revoked.status, 303);
  const after = await bearer(token).request('/api/projects');
  assert.equal(after.status, 401);
  assert.equal(JSON.parse(after.text).error.code, 'TOKEN_INVALID');
  const mixed = await admin.request('/api/projects', { headers: { authorization: `Bearer ${token}` } });
  assert.equal(mixed.status, 401, 'a bad token is not rescued by a cookie');
});

test('a session-cookie POST to /api without the CSRF header is still refused', async () => {
  const admin = new Client(panel.url);
  assert.equal((await admin.login()).status, 303);
  const res = await admin.request(`/api/mailboxes/${mailboxId}/actions/pause`, { method: 'POST' });
  assert.equal(res.status, 403);
  assert.equal(JSON.parse(res.text).error.code, 'CSRF_INVALID');
  assert.equal(await state(), 'queued');
});

test('the tokens page creates a token shown once, lists it without the secret, and revokes it', async () => {
  const admin = new Client(panel.url);
  assert.equal((await admin.login()).status, 303);
  const page = await admin.request('/settings/tokens');
  assert.equal(page.status, 200);
  assert.match(page.text, /name="_csrf" value="[^"]+"/);
  const bad = await admin.request('/settings/tokens', { form: { _csrf: await admin.token('/settings/tokens'), name: 'no spaces allowed' } });
  assert.equal(bad.status, 400);
  const created = await admin.request('/settings/tokens', { form: { _csrf: await admin.token('/settings/tokens'), name: 'backup-script' } });
  assert.equal(created.status, 201);
  assert.equal(created.headers.get('cache-control'), 'no-store');
  const token = /<code id="new-token">([^<]+)<\/code>/.exec(created.text)![1]!;
  assert.equal((await bearer(token).request('/api/projects')).status, 200);
  const listed = await admin.request('/settings/tokens');
  assert.match(listed.text, /backup-script/);
  assert.ok(!listed.text.includes(token), 'the list never shows a token again');
  const sessions = JSON.stringify(await panel.app.db('sessions').select('sess'));
  assert.ok(!sessions.includes(token), 'the token never went through the session store');
  const { id } = await panel.app.db('api_tokens').where({ name: 'backup-script' }).first('id');
  const noCsrf = await admin.request(`/settings/tokens/${id}/revoke`, { method: 'POST', form: {} });
  assert.equal(noCsrf.status, 403);
  assert.equal((await bearer(token).request('/api/projects')).status, 200);
  await admin.request(`/settings/tokens/${id}/revoke`, { form: { _csrf: await admin.token('/settings/tokens') } });
  assert.match((await admin.request('/settings/tokens')).text, /Token backup-script revoked/);
  assert.equal((await bearer(token).request('/api/projects')).status, 401);
});
