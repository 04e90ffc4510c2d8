import { request as httpRequest, type Server } from 'node:http';
import express from 'express';
import { openContext, type AppContext } from '../../server/context.ts';
import { createPanel, type PanelOptions } from '../../server/panel.ts';
import { insertUser } from '../../server/db/repos/users.ts';
import { hashPassword } from '../../server/web/passwords.ts';
import { tempDataDir } from '../support/cli.ts';
import { testDatabaseEnv } from '../support/database.ts';

export const ADMIN = { name: 'root', password: 'correct horse battery' };

/** `app`'s panel mounted under /panel (as a host control panel would) on 127.0.0.1, with `admin` as an admin; close() stops the HTTP server only. */
export async function mountPanel(app: AppContext, options: PanelOptions = {}, admin = ADMIN): Promise<{ url: string; close(): Promise<void> }> {
  await insertUser(app.db, admin.name, await hashPassword(admin.password));
  const host = express();
  host.use('/panel', createPanel(app, options));
  const server: Server = await new Promise((resolve) => { const s = host.listen(0, '127.0.0.1', () => resolve(s)); });
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/panel`, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** The panel on a fresh data dir with one admin. */
export async function startPanel(options: PanelOptions = {}, env: Record<string, string> = {}): Promise<{ app: AppContext; url: string; close(): Promise<void> }> {
  const app = await openContext({ CUTOVER_DATA_DIR: tempDataDir(), CUTOVER_LOG_LEVEL: 'silent', ...(await testDatabaseEnv()), ...env });
  const panel = await mountPanel(app, options);
  return { app, url: panel.url, async close() { await panel.close(); await app.close(); } };
}

/** A tiny cookie-keeping HTTP client: real requests, no redirects followed, so tests see every answer. */
export class Client {
  cookie = '';
  /** `localAddress`: connect from another loopback address (127.0.0.2, …) to act as another client machine. */
  constructor(readonly base: string, readonly headers: Record<string, string> = {}, readonly localAddress?: string) {}

  async request(path: string, init: { method?: string; form?: Record<string, string>; json?: unknown; headers?: Record<string, string> } = {}): Promise<{ status: number; text: string; headers: Headers }> {
    const headers: Record<string, string> = { ...this.headers, ...init.headers };
    if (this.cookie) headers.cookie = this.cookie;
    let body: string | undefined;
    if (init.form) { headers['content-type'] = 'application/x-www-form-urlencoded'; body = new URLSearchParams(init.form).toString(); }
    if (init.json !== undefined) { headers['content-type'] = 'application/json'; body = JSON.stringify(init.json); }
    const method = init.method ?? (body ? 'POST' : 'GET');
    const res = this.localAddress ? await this.fromLocalAddress(path, method, headers, body) : await fetch(this.base + path, { method, headers, body, redirect: 'manual' });
    const set = res.headers.getSetCookie().map((c) => c.split(';')[0]!).find((c) => c.startsWith('cutover.sid='));
    if (set) this.cookie = set;
    return { status: res.status, text: await res.text(), headers: res.headers };
  }

  private fromLocalAddress(path: string, method: string, headers: Record<string, string>, body?: string): Promise<Response> {
    const url = new URL(this.base + path);
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname + url.search, method, headers, localAddress: this.localAddress }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c)).on('error', reject).on('end', () => {
          const out = new Headers();
          for (const [name, value] of Object.entries(res.headers)) for (const v of [value ?? []].flat()) out.append(name, v);
          resolve(new Response(res.statusCode === 204 || res.statusCode === 304 ? null : Buffer.concat(chunks), { status: res.statusCode!, headers: out }));
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  /** The CSRF token of the last page that had a form. */
  async token(path = '/login'): Promise<string> {
    const page = await this.request(path);
    const match = /name="_csrf" value="([^"]+)"/.exec(page.text);
    if (!match) throw new Error(`no CSRF token on ${path} (${page.status})`);
    return match[1]!;
  }

  async login(name = ADMIN.name, password = ADMIN.password): Promise<{ status: number; text: string; headers: Headers }> {
    return this.request('/login', { form: { _csrf: await this.token('/login'), name, password } });
  }
}
