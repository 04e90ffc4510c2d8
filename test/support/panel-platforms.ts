import { readFileSync } from 'node:fs';
import type { AppContext } from '../../server/context.ts';
import { insertPlatform } from '../../server/db/repos/platforms.ts';
import { addDomain, addMailbox, startDovecot, type DovecotInstance } from '../../server/devservers/dovecot.ts';
import { Client, startPanel } from '../web/client.ts';
import { NEW_MX, OLD_MX, writePlatformConfig, type PlatformOverrides } from './platforms.ts';

export interface PanelLandscape {
  old: DovecotInstance;
  new: DovecotInstance;
  app: AppContext;
  url: string;
  /** Logged in as the admin. */
  client: Client;
  stop(): Promise<void>;
}

/**
 * Two real Dovecot/PostfixAdmin hosts and a panel whose database knows them as platforms:
 * `old` (accounts in `domains`, master user), `nomaster` (the same host without a master user,
 * so each mailbox needs its password) and `new` (empty; `newOverrides` e.g. a maxMailboxBytes).
 * No DNS server: nothing here runs the workflow.
 */
export async function startPanelLandscape(opts: { domains: Record<string, Array<{ address: string; password: string; quota?: number }>>; newOverrides?: PlatformOverrides }): Promise<PanelLandscape> {
  const [oldHost, newHost] = await Promise.all([startDovecot(), startDovecot()]);
  const panel = await startPanel();
  try {
    for (const [domain, accounts] of Object.entries(opts.domains)) {
      await addDomain(oldHost, domain);
      for (const a of accounts) await addMailbox(oldHost, a.address, a.password, a.quota ?? 0);
    }
    const dir = panel.app.config.dataDir;
    const config = (inst: DovecotInstance, name: string, mx: string, overrides?: PlatformOverrides) => JSON.parse(readFileSync(writePlatformConfig(inst, dir, name, mx, overrides), 'utf8'));
    await insertPlatform(panel.app.db, panel.app.box, 'old', 'postfixadmin', config(oldHost, 'old', OLD_MX));
    const { masterUser: _dropped, ...withoutMaster } = config(oldHost, 'nomaster', OLD_MX);
    await insertPlatform(panel.app.db, panel.app.box, 'nomaster', 'postfixadmin', withoutMaster);
    await insertPlatform(panel.app.db, panel.app.box, 'new', 'postfixadmin', config(newHost, 'new', NEW_MX, opts.newOverrides));
    const client = new Client(panel.url);
    const login = await client.login();
    if (login.status !== 303) throw new Error(`login failed: ${login.status}`);
    return {
      old: oldHost, new: newHost, app: panel.app, url: panel.url, client,
      async stop() { await panel.close(); await Promise.allSettled([oldHost.stop(), newHost.stop()]); },
    };
  } catch (err) {
    await panel.close();
    await Promise.allSettled([oldHost.stop(), newHost.stop()]);
    throw err;
  }
}

/** A multipart form post, as a browser sends the import form (no JavaScript, no CSRF header). */
export async function upload(client: Client, path: string, fields: Record<string, string>, file?: { name: string; data: Buffer | string; type?: string }, headers: Record<string, string> = {}): Promise<{ status: number; text: string; headers: Headers }> {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  if (file) form.append('file', new Blob([typeof file.data === 'string' ? file.data : new Uint8Array(file.data)], { type: file.type ?? 'text/csv' }), file.name);
  const res = await fetch(client.base + path, { method: 'POST', body: form, headers: { ...headers, ...(client.cookie && { cookie: client.cookie }) }, redirect: 'manual' });
  return { status: res.status, text: await res.text(), headers: res.headers };
}
