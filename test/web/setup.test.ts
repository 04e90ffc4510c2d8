import assert from 'node:assert/strict';
import { request as httpRequest, type Server } from 'node:http';
import { after, before, test } from 'node:test';
import express, { type Express } from 'express';
import { verify } from '@node-rs/argon2';
import { openContext, type AppContext } from '../../server/context.ts';
import { createPanel } from '../../server/panel.ts';
import { isDirectLoopback } from '../../server/web/guard.ts';
import { tempDataDir } from '../support/cli.ts';
import { Client } from './client.ts';

let app: AppContext;
const servers: Server[] = [];

async function serve(host: Express): Promise<string> {
  const server: Server = await new Promise((resolve) => { const s = host.listen(0, '127.0.0.1', () => resolve(s)); });
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as { port: number }).port}/panel`;
}

let local: string;
let remote: string;

before(async () => {
  app = await openContext({ CUTOVER_DATA_DIR: tempDataDir(), CUTOVER_LOG_LEVEL: 'silent' });
  const direct = express();
  direct.use('/panel', createPanel(app));
  local = await serve(direct);
  // The same panel seen from another machine: only the socket's address differs, which is all the page looks at.
  const far = express();
  far.use((req, _res, next) => { Object.defineProperty(req.socket, 'remoteAddress', { value: '198.51.100.7', configurable: true }); next(); });
  far.use('/panel', createPanel(app));
  remote = await serve(far);
});
after(async () => {
  for (const s of servers) await new Promise<void>((r) => s.close(() => r()));
  await app?.close();
});

test('only a direct loopback client counts as local: not X-Forwarded-For, not a relayed request', () => {
  const req = (remoteAddress: string, headers: Record<string, string> = {}) => ({ socket: { remoteAddress }, get: (h: string) => ({ host: '127.0.0.1:8080', ...headers })[h.toLowerCase()] }) as never;
  assert.equal(isDirectLoopback(req('127.0.0.1')), true);
  assert.equal(isDirectLoopback(req('::1')), true);
  assert.equal(isDirectLoopback(req('::ffff:127.0.0.1')), true);
  assert.equal(isDirectLoopback(req('203.0.113.9', { 'x-forwarded-for': '127.0.0.1' })), false);
  assert.equal(isDirectLoopback(req('127.0.0.1', { 'x-forwarded-for': '203.0.113.9' })), false, 'a proxy on the same host relays the world');
  assert.equal(isDirectLoopback(req('10.0.0.2')), false);
  for (const header of ['x-forwarded-server', 'true-client-ip', 'cf-connecting-ip', 'x-client-ip']) {
    assert.equal(isDirectLoopback(req('127.0.0.1', { [header]: '203.0.113.9' })), false, header);
  }
  for (const host of ['localhost', 'LOCALHOST:3000', '127.0.0.1', '[::1]', '[::1]:8080']) assert.equal(isDirectLoopback(req('127.0.0.1', { host })), true, host);
  for (const host of ['evil.example', 'evil.example:8080', '127.0.0.1.evil.example', 'localhost.evil.example', '127.0.0.2', '[::2]', '']) {
    assert.equal(isDirectLoopback(req('127.0.0.1', { host })), false, `Host: ${host}`);
  }
});

/** A raw request with a Host header of our choosing (fetch sets its own). */
function rawRequest(url: string, options: { method?: string; host: string; cookie?: string; form?: Record<string, string> }): Promise<{ status: number; text: string }> {
  const target = new URL(url);
  const body = options.form ? new URLSearchParams(options.form).toString() : undefined;
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: target.hostname, port: target.port, path: target.pathname, method: options.method ?? 'GET',
      headers: { host: options.host, ...(options.cookie ? { cookie: options.cookie } : {}), ...(body ? { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(body)) } : {}) },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => { text += chunk; }).on('end', () => resolve({ status: res.statusCode!, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('DNS rebinding: from this machine but under another Host name, the setup page is refused and creates no admin', async () => {
  const admin = new Client(local);
  const token = await admin.token('/login');
  for (const host of ['evil.example', `evil.example:${new URL(local).port}`]) {
    assert.equal((await rawRequest(`${local}/setup`, { host })).status, 403, host);
    const posted = await rawRequest(`${local}/setup`, { method: 'POST', host, cookie: admin.cookie, form: { _csrf: token, name: 'mallory', password: 'a long enough secret', password2: 'a long enough secret' } });
    assert.equal(posted.status, 403, host);
  }
  assert.equal((await rawRequest(`${local}/setup`, { host: `localhost:${new URL(local).port}` })).status, 200, 'localhost is a loopback name');
  for (const header of ['x-forwarded-server', 'true-client-ip', 'cf-connecting-ip', 'x-client-ip']) {
    assert.equal((await new Client(local, { [header]: '203.0.113.9' }).request('/setup')).status, 403, header);
  }
  assert.equal(Number((await app.db('users').count({ n: '*' }))[0]!.n), 0);
});

test('from another machine the setup page is a 403 with the CLI command; forged forwarding headers change nothing', async () => {
  const far = new Client(remote);
  const page = await far.request('/setup');
  assert.equal(page.status, 403);
  assert.match(page.text, /npx cutover admin create NAME/);
  const forged = await new Client(remote, { 'x-forwarded-for': '127.0.0.1' }).request('/setup');
  assert.equal(forged.status, 403);
  const token = await far.token('/login');
  assert.equal((await far.request('/setup', { form: { _csrf: token, name: 'mallory', password: 'a long enough secret', password2: 'a long enough secret' } })).status, 403);
  const proxied = await new Client(local, { 'x-forwarded-for': '203.0.113.9' }).request('/setup');
  assert.equal(proxied.status, 403, 'through a reverse proxy on the same host');
  assert.doesNotMatch((await far.request('/login')).text, /\/setup/, 'the login page points remote visitors to the CLI only');
  assert.equal(Number((await app.db('users').count({ n: '*' }))[0]!.n), 0);
});

test('on the server itself: the login page links the setup page, which checks its input and is CSRF-protected', async () => {
  const admin = new Client(local);
  const login = await admin.request('/login');
  assert.match(login.text, /No admin account exists yet\. Create one on the setup page/);
  assert.match(login.text, /href="\/panel\/setup"/);
  const page = await admin.request('/setup');
  assert.equal(page.status, 200);
  assert.match(page.text, /<input type="hidden" name="_csrf" value="[^"]+">/);
  const post = async (form: Record<string, string>) => admin.request('/setup', { form: { _csrf: await admin.token('/setup'), ...form } });
  const mismatch = await post({ name: 'alice', password: 'a long enough secret', password2: 'a long enough secreT' });
  assert.equal(mismatch.status, 400);
  assert.match(mismatch.text, /The two passwords differ\./);
  const short = await post({ name: 'alice', password: 'short', password2: 'short' });
  assert.equal(short.status, 400);
  assert.match(short.text, /at least 10 characters/);
  assert.equal((await post({ name: 'Not Valid!', password: 'a long enough secret', password2: 'a long enough secret' })).status, 400);
  const noCsrf = await admin.request('/setup', { form: { name: 'alice', password: 'a long enough secret', password2: 'a long enough secret' } });
  assert.equal(noCsrf.status, 403);
  assert.equal(Number((await app.db('users').count({ n: '*' }))[0]!.n), 0);
});

test('it creates the first admin with an argon2 hash, logs them in, audits it, and is gone for good', async () => {
  const admin = new Client(local);
  const created = await admin.request('/setup', { form: { _csrf: await admin.token('/setup'), name: 'Alice', password: 'a long enough secret', password2: 'a long enough secret' } });
  assert.equal(created.status, 303);
  assert.equal(created.headers.get('location'), '/panel/');
  const home = await admin.request('/');
  assert.equal(home.status, 200, 'logged in');
  assert.match(home.text, /Signed in as alice/);
  assert.match(home.text, /Admin alice created: you are logged in\./);
  const [user] = await app.db('users').select();
  assert.equal(user.name, 'alice');
  assert.ok(await verify(user.password_hash, 'a long enough secret'));
  assert.match(user.password_hash, /^\$argon2id\$/);
  const audit = await app.db('audit').where({ action: 'setup' }).first();
  assert.equal(audit.actor, 'web:alice');
  assert.doesNotMatch(JSON.stringify(audit), /long enough secret/);

  for (const client of [new Client(local), admin, new Client(remote)]) {
    assert.equal((await client.request('/setup')).status, 404, 'an admin exists: no setup page for anyone');
  }
  const again = await admin.request('/setup', { form: { _csrf: await admin.token('/'), name: 'eve', password: 'a long enough secret', password2: 'a long enough secret' } });
  assert.equal(again.status, 404);
  assert.equal(Number((await app.db('users').count({ n: '*' }))[0]!.n), 1);
  assert.doesNotMatch((await new Client(local).request('/login')).text, /setup/);
});
