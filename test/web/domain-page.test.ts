import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { after, before, test } from 'node:test';
import express from 'express';
import { openContext, type AppContext } from '../../server/context.ts';
import { insertUser } from '../../server/db/repos/users.ts';
import { createPanel } from '../../server/panel.ts';
import { isMessageKey } from '../../server/web/i18n.ts';
import { hashPassword } from '../../server/web/passwords.ts';
import { cutover, tempDataDir } from '../support/cli.ts';
import { DOMAIN, NEW_MX, NEW_SPF, OLD_MX, startLandscape, switchDnsToNew, writePlatformConfig, type Landscape } from '../support/platforms.ts';
import { ADMIN, Client } from './client.ts';

let land: Landscape;
let app: AppContext;
let server: Server;
let client: Client;
let projectId: number;
let domainId: number;
let page: string;

/** The row of one check (or server) on the page, and the status its dot carries. */
function row(html: string, attr: 'check' | 'server', id: string): { status: string; html: string } {
  const match = new RegExp(`<tr data-${attr}="${id.replace(/[.]/g, '\\.')}" data-status="(\\w+)">([\\s\\S]*?)</tr>`).exec(html);
  assert.ok(match, `no ${attr} row ${id} on the page`);
  return { status: match[1]!, html: match[2]! };
}

before(async () => {
  land = await startLandscape({ accounts: [{ address: 'alice@example.test', password: 'alice-pw' }] });
  const dataDir = tempDataDir();
  for (const [name, inst, mx] of [['old', land.old, OLD_MX], ['new', land.new, NEW_MX]] as const) {
    const added = await cutover(['platform', 'add', name, '--plugin', 'postfixadmin', '--config', writePlatformConfig(inst, dataDir, name, mx)], { dataDir });
    assert.equal(added.code, 0, added.stderr);
  }
  // No --wait: the project, its domain and mailbox exist; no worker runs them here.
  const migrated = await cutover(['migrate', '--from', 'old', '--to', 'new', '--domain', DOMAIN, '--overlap', '0',
    '--nameserver', `127.0.0.1:${land.dns.port}`, '--name', 'dnspage'], { dataDir });
  assert.equal(migrated.code, 0, migrated.stderr);

  app = await openContext({ CUTOVER_DATA_DIR: dataDir, CUTOVER_LOG_LEVEL: 'silent' });
  await insertUser(app.db, ADMIN.name, await hashPassword(ADMIN.password));
  const host = express();
  host.use('/panel', createPanel(app));
  server = await new Promise((resolve) => { const s = host.listen(0, '127.0.0.1', () => resolve(s)); });
  const { port } = server.address() as { port: number };
  projectId = (await app.db('projects').where({ name: 'dnspage' }).first()).id;
  domainId = (await app.db('domains').where({ project_id: projectId, name: DOMAIN }).first()).id;
  page = `/projects/${projectId}/domains/${DOMAIN}`;
  // The mailbox as the worker leaves it when the zone still points to the old platform.
  await app.db('mailboxes').where({ project_id: projectId }).update({ step: 'dns-cutover', state: 'waiting', next_run_at: Date.now() + 3_600_000 });
  client = new Client(`http://127.0.0.1:${port}/panel`);
  assert.equal((await client.login()).status, 303);
});
after(async () => {
  if (server) await new Promise<void>((r) => server.close(() => r()));
  await app?.close();
  await land?.stop();
});

test('a logged-out request for the domain page is sent to the login page', async () => {
  const res = await new Client(client.base).request(page);
  assert.equal(res.status, 303);
  assert.equal(res.headers.get('location'), `/panel/login?next=${encodeURIComponent(`/panel${page}`)}`);
});

test('before the switch, MX and SPF are red with their fix, each propagation server is listed, and the project page links here', { timeout: 60_000 }, async () => {
  const project = await client.request(`/projects/${projectId}`);
  assert.match(project.text, new RegExp(`href="/panel${page}"`));
  const res = await client.request(page);
  assert.equal(res.status, 200, res.text);
  const mx = row(res.text, 'check', 'mx');
  assert.equal(mx.status, 'error');
  assert.match(mx.html, /class="dot error"[^>]*><\/span> <span class="dot-label">error</);
  assert.match(mx.html, new RegExp(`<td class="fix"><code>[^<]*${NEW_MX.replace(/\./g, '\\.')}`));
  assert.match(mx.html, /10 mx\.old\.example\.net/, 'what was found');
  const spf = row(res.text, 'check', 'spf');
  assert.equal(spf.status, 'error');
  assert.match(spf.html, new RegExp(`<td class="fix"><code>[^<]*include:${NEW_SPF.replace(/\./g, '\\.')}`));
  assert.match(res.text, /id="domain-status" data-status="error"><span class="dot error"/);
  const servers = [...res.text.matchAll(/<tr data-server="[^"]+" data-status="(\w+)">([\s\S]*?)<\/tr>/g)];
  assert.equal(servers.length, 1);
  assert.match(servers[0]![2]!, new RegExp(`127\\.0\\.0\\.1:${land.dns.port}</td><td>\\d+</td>`), 'address and serial');
  assert.match(res.text, /id="domain-step" data-step-status="pending"/);
  assert.match(res.text, /1 mailbox\(es\) waiting on this domain/);
  assert.doesNotMatch(res.text, /id="apply-provider"/, 'no provider button without a DNS provider');
  assert.match(res.text, /id="check-now"/);
});

test('a POST without the CSRF token is refused and changes nothing', async () => {
  for (const action of ['check', 'confirm', 'apply']) {
    const res = await client.request(`${page}/${action}`, { form: { x: '1' } });
    assert.equal(res.status, 403, action);
  }
  const mailbox = await app.db('mailboxes').where({ project_id: projectId }).first();
  assert.ok(mailbox.next_run_at > Date.now() + 60_000, 'not woken');
  assert.equal(await app.db('domain_steps').where({ domain_id: domainId, step: 'dns-cutover', status: 'done' }).first(), undefined);
});

test('after the switch, "check now" turns MX and SPF green and wakes the waiting mailbox', { timeout: 60_000 }, async () => {
  await switchDnsToNew(land.dns);
  const before = Date.now();
  const res = await client.request(`${page}/check`, { form: { _csrf: await client.token(page) } });
  assert.equal(res.status, 303, res.text);
  assert.equal(res.headers.get('location'), `/panel${page}`);
  const mailbox = await app.db('mailboxes').where({ project_id: projectId }).first();
  assert.ok(mailbox.next_run_at >= before && mailbox.next_run_at <= Date.now(), `woken: next_run_at ${mailbox.next_run_at}`);
  assert.equal(mailbox.state, 'waiting');
  const after = await client.request(page);
  assert.match(after.text, /class="flash ok" role="status">Checked: [\w ]+\. 1 waiting mailbox\(es\) will look again/);
  const mx = row(after.text, 'check', 'mx');
  assert.equal(mx.status, 'ok');
  assert.match(mx.html, /class="dot ok"[^>]*><\/span> <span class="dot-label">ok</);
  assert.match(mx.html, /<td class="fix"><\/td>/, 'nothing to fix');
  assert.equal(row(after.text, 'check', 'spf').status, 'ok');
  assert.match(after.text, /<tr data-server="[^"]+" data-status="ok">[\s\S]*?updated/);
});

test('the API gives the same diagnosis as JSON, checks again with the CSRF header, and refuses "apply" without a DNS provider', { timeout: 60_000 }, async () => {
  const api = `/api/projects/${projectId}/domains/${DOMAIN}`;
  const model = JSON.parse((await client.request(api)).text);
  assert.equal(model.domain.name, DOMAIN);
  assert.equal(model.checks.find((c: { id: string }) => c.id === 'mx').status, 'ok');
  const csrfToken = JSON.parse((await client.request('/api/session')).text).csrfToken;
  assert.equal((await client.request(`${api}/check`, { method: 'POST' })).status, 403, 'a mutation needs the CSRF header');
  const checked = await client.request(`${api}/check`, { method: 'POST', headers: { 'x-csrf-token': csrfToken } });
  assert.equal(checked.status, 200, checked.text);
  assert.equal(JSON.parse(checked.text).report.status === undefined, false);
  const apply = await client.request(`${api}/apply`, { method: 'POST', headers: { 'x-csrf-token': csrfToken } });
  assert.equal(apply.status, 400);
  assert.match(JSON.parse(apply.text).error.message, /no DNS provider/);
});

test('"confirm manually" marks the dns-cutover step done and moves the waiting mailbox on', async () => {
  const fr = new Client(client.base, { 'accept-language': 'fr' });
  assert.equal((await fr.login()).status, 303);
  const res = await fr.request(`${page}/confirm`, { form: { _csrf: await fr.token(page) } });
  assert.equal(res.status, 303, res.text);
  const step = await app.db('domain_steps').where({ domain_id: domainId, step: 'dns-cutover' }).first();
  assert.equal(step.status, 'done');
  assert.equal(step.confirmed_by, `web:${ADMIN.name}`);
  assert.equal((await app.db('mailboxes').where({ project_id: projectId }).first()).state, 'queued');
  const shown = await fr.request(page);
  assert.match(shown.text, /Le changement DNS est confirmé/);
  assert.match(shown.text, /id="domain-step" data-step-status="done"><span class="state done">terminée</);
  assert.match(shown.text, /confirmée par web:root/);
});

test('every word of the domain page is in the translation tables', () => {
  const view = readFileSync(new URL('../../views/domain.hbs', import.meta.url), 'utf8');
  const keys = [...view.matchAll(/\{\{t "([^"]+)"/g)].map((m) => m[1]!);
  assert.ok(keys.length > 10);
  assert.deepEqual(keys.filter((k) => !isMessageKey(k)), []);
  for (const prefix of ['dns.status.', 'dns.server.', 'domain.stepStatus.']) {
    const dynamic = prefix === 'dns.status.' ? ['ok', 'warn', 'error', 'unknown'] : prefix === 'dns.server.' ? ['updated', 'stale', 'lame', 'unknown'] : ['pending', 'waiting', 'done'];
    assert.deepEqual(dynamic.filter((s) => !isMessageKey(prefix + s)), []);
  }
});
