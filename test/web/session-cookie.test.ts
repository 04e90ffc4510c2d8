import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { after, before, test } from 'node:test';
import express, { type Express } from 'express';
import { openContext, type AppContext } from '../../server/context.ts';
import { createPanel } from '../../server/panel.ts';
import { insertUser } from '../../server/db/repos/users.ts';
import { hashPassword } from '../../server/web/passwords.ts';
import { tempDataDir } from '../support/cli.ts';
import { ADMIN } from './client.ts';

let app: AppContext;
const servers: Server[] = [];

before(async () => {
  app = await openContext({ CUTOVER_DATA_DIR: tempDataDir(), CUTOVER_LOG_LEVEL: 'silent' });
  await insertUser(app.db, ADMIN.name, await hashPassword(ADMIN.password));
});
after(async () => {
  for (const s of servers) await new Promise<void>((r) => s.close(() => r()));
  await app?.close();
});

async function serve(host: Express): Promise<string> {
  const server: Server = await new Promise((resolve) => { const s = host.listen(0, '127.0.0.1', () => resolve(s)); });
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as { port: number }).port}/panel`;
}

/** Logs in and returns the session cookie the login answer set (the first page's cookie is replaced on login). */
async function loginCookie(url: string, headers: Record<string, string> = {}): Promise<string> {
  const page = await fetch(`${url}/login`, { headers });
  const first = page.headers.getSetCookie().find((c) => c.startsWith('cutover.sid='));
  assert.ok(first, 'the login page starts a session (for its CSRF token)');
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())![1]!;
  const res = await fetch(`${url}/login`, {
    method: 'POST', redirect: 'manual',
    headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded', cookie: first.split(';')[0]! },
    body: new URLSearchParams({ _csrf: csrf, name: ADMIN.name, password: ADMIN.password }),
  });
  assert.equal(res.status, 303);
  return res.headers.getSetCookie().find((c) => c.startsWith('cutover.sid='))!;
}

test('behind a TLS-terminating proxy (trust proxy set by the host) the cookie is Secure, httpOnly and sameSite', async () => {
  const host = express();
  host.set('trust proxy', 'loopback');
  host.use('/panel', createPanel(app));
  const url = await serve(host);
  const tls = await loginCookie(url, { 'x-forwarded-proto': 'https' });
  assert.match(tls, /; Secure/);
  assert.match(tls, /; HttpOnly/);
  assert.match(tls, /; SameSite=Lax/);
  const plain = await loginCookie(url);
  assert.doesNotMatch(plain, /Secure/, 'the same panel over plain HTTP');
  assert.match(plain, /; HttpOnly/);
});

test('createPanel({ trustProxy: true }) does the same when the host application sets nothing', async () => {
  const host = express();
  host.use('/panel', createPanel(app, { trustProxy: true }));
  const url = await serve(host);
  assert.match(await loginCookie(url, { 'x-forwarded-proto': 'https' }), /; Secure/);
  assert.doesNotMatch(await loginCookie(url), /Secure/);
});

test('without trust, a client claiming X-Forwarded-Proto: https does not make a plain connection count as TLS', async () => {
  const host = express();
  host.use('/panel', createPanel(app));
  const url = await serve(host);
  assert.doesNotMatch(await loginCookie(url, { 'x-forwarded-proto': 'https' }), /Secure/);
});
