import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Server } from 'node:http';
import { after, before, test } from 'node:test';
import express from 'express';
import { openContext, type AppContext } from '../../server/context.ts';
import { insertUser } from '../../server/db/repos/users.ts';
import { recheckAllDomains } from '../../server/dns/recheck.ts';
import { createPanel, renderDnsDots } from '../../server/panel.ts';
import { isMessageKey } from '../../server/web/i18n.ts';
import { hashPassword } from '../../server/web/passwords.ts';
import { checkText } from '../../server/web/check-words.ts';
import { createToken } from '../../server/services/tokens.ts';
import { cutover, tempDataDir } from '../support/cli.ts';
import { DOMAIN, NEW_MX, OLD_MX, startLandscape, switchDnsToNew, writePlatformConfig, type Landscape } from '../support/platforms.ts';
import { ADMIN, Client } from './client.ts';
import { launchChromium } from '../support/browser.ts';
import { screenshotDir } from '../support/screenshots.ts';

const ELSEWHERE = 'elsewhere.test';
let land: Landscape;
let app: AppContext;
let server: Server;
let client: Client;
let projectId: number;
let nameserver: string;

/** A domain's row on the Domains page: its overall status and the status of each dot by kind. */
function domainRow(html: string, name: string): { status: string; dots: Record<string, string>; html: string } {
  const match = new RegExp(`<tr data-domain="${name.replace(/[.]/g, '\\.')}" data-status="(\\w+)">([\\s\\S]*?)</tr>`).exec(html);
  assert.ok(match, `no row for ${name} on the Domains page`);
  const dots = Object.fromEntries([...match[2]!.matchAll(/data-kind="(\w+)" data-status="(\w+)"/g)].map((m) => [m[1]!, m[2]!]));
  return { status: match[1]!, dots, html: match[2]! };
}

before(async () => {
  land = await startLandscape({ accounts: [{ address: 'alice@example.test', password: 'alice-pw' }] });
  nameserver = `127.0.0.1:${land.dns.port}`;
  const dataDir = tempDataDir();
  for (const [name, inst, mx] of [['old', land.old, OLD_MX], ['new', land.new, NEW_MX]] as const) {
    const added = await cutover(['platform', 'add', name, '--plugin', 'postfixadmin', '--config', writePlatformConfig(inst, dataDir, name, mx)], { dataDir });
    assert.equal(added.code, 0, added.stderr);
  }
  const migrated = await cutover(['migrate', '--from', 'old', '--to', 'new', '--domain', DOMAIN, '--overlap', '0', '--nameserver', nameserver, '--name', 'domainslist'], { dataDir });
  assert.equal(migrated.code, 0, migrated.stderr);
  app = await openContext({ CUTOVER_DATA_DIR: dataDir, CUTOVER_LOG_LEVEL: 'silent' });
  await insertUser(app.db, ADMIN.name, await hashPassword(ADMIN.password));
  const host = express();
  host.use('/panel', createPanel(app));
  server = await new Promise((resolve) => { const s = host.listen(0, '127.0.0.1', () => resolve(s)); });
  const { port } = server.address() as { port: number };
  projectId = (await app.db('projects').where({ name: 'domainslist' }).first()).id;
  client = new Client(`http://127.0.0.1:${port}/panel`);
  assert.equal((await client.login()).status, 303);
});
after(async () => {
  if (server) await new Promise<void>((r) => server.close(() => r()));
  await app?.close();
  await land?.stop();
});

test('a project\'s domain is listed before any check, linked to its project domain page, with six grey dots', async () => {
  const res = await client.request('/domains');
  assert.equal(res.status, 200, res.text);
  const row = domainRow(res.text, DOMAIN);
  assert.equal(row.status, 'none');
  assert.deepEqual(Object.keys(row.dots), ['mx', 'spf', 'dkim', 'dmarc', 'clients', 'propagation']);
  assert.ok(Object.values(row.dots).every((s) => s === 'unknown'));
  assert.match(row.html, new RegExp(`href="/panel/projects/${projectId}/domains/${DOMAIN}"`));
  assert.match(row.html, /project domainslist/);
  assert.match(res.text, /href="\/panel\/domains">Domains</, 'the navigation links the page');
});

test('on the French page, the checks\' found/expected/fix are in French; the records they quote are untouched', { timeout: 60_000 }, async () => {
  const res = await client.request(`/projects/${projectId}/domains/${DOMAIN}`, { headers: { 'accept-language': 'fr' } });
  assert.equal(res.status, 200, res.text);
  assert.match(res.text, /<html lang="fr">/);
  const mx = /<tr data-check="mx" data-status="error">([\s\S]*?)<\/tr>/.exec(res.text)?.[1] ?? '';
  assert.match(mx, /publier exactement : [^<]*mx\.new\.example\.net/);
  assert.match(mx, /supprimer : [^<]*mx\.old\.example\.net/);
  assert.doesNotMatch(res.text, /publish exactly|every MX host has an address/);
  assert.match(res.text, /chaque hôte MX a une adresse/);
});

test('the check phrases translate, and anything else passes through as it came', () => {
  assert.equal(checkText('fr', 'publish exactly: example.test. 3600 IN MX 10 mx.new.example.net. — remove: example.test. IN MX 10 mx.old.example.net.'),
    'publier exactement : example.test. 3600 IN MX 10 mx.new.example.net. — supprimer : example.test. IN MX 10 mx.old.example.net.');
  assert.equal(checkText('fr', 'authoritative: 1/2 updated, 1 not answering'), 'autoritaires : 1/2 à jour, 1 sans réponse');
  assert.equal(checkText('en', 'no answer'), 'no answer');
  assert.equal(checkText('fr', '10 mx.old.example.net'), '10 mx.old.example.net');
});

test('a domain added by hand is checked at once against its platform, and opens a domain page of its own', { timeout: 60_000 }, async () => {
  const token = await client.token('/domains');
  const added = await client.request('/domains', { form: { _csrf: token, name: ELSEWHERE.toUpperCase(), platform: 'new', nameservers: nameserver } });
  assert.equal(added.status, 303, added.text);
  const list = await client.request('/domains');
  const row = domainRow(list.text, ELSEWHERE);
  assert.equal(row.status, 'unknown', 'the local Knot serves no such zone: grey, not green');
  assert.equal(row.dots.mx, 'unknown');
  assert.match(row.html, /href="\/panel\/domains\/elsewhere\.test"/);
  assert.match(row.html, /added by hand/);
  const page = await client.request(`/domains/${ELSEWHERE}`);
  assert.equal(page.status, 200, page.text);
  assert.match(page.text, /<tr data-check="mx" data-status="unknown">/);
  assert.match(page.text, /href="\/panel\/domains">Back to the domains</);
  const dashboard = await client.request('/');
  assert.match(dashboard.text, /<tr data-domain="elsewhere\.test" data-status="unknown"><td><a href="\/panel\/domains\/elsewhere\.test">/, 'the dashboard lists what the last check found not green');
  assert.match(dashboard.text, /could not be fully tested at the last re-check/);
  const stored = await app.db('watched_domains').where({ name: ELSEWHERE }).first();
  assert.equal(stored.source, 'manual');
  assert.equal(stored.nameservers, nameserver);
});

test('a name that is not a domain, or an unknown platform, is refused and nothing is stored', async () => {
  const token = await client.token('/domains');
  const bad = await client.request('/domains', { form: { _csrf: token, name: 'not a domain', platform: 'new' } });
  assert.equal(bad.status, 400);
  const unknown = await client.request('/domains', { form: { _csrf: token, name: 'fine.test', platform: 'nowhere' } });
  assert.notEqual(unknown.status, 303);
  assert.equal((await app.db('watched_domains').whereIn('name', ['not a domain', 'fine.test'])).length, 0);
  const noCsrf = await client.request('/domains', { form: { name: 'fine.test', platform: 'new' } });
  assert.equal(noCsrf.status, 403);
});

test('the re-check job stores every domain\'s dots: MX and SPF red before the switch, no longer red after', { timeout: 120_000 }, async () => {
  const before = await recheckAllDomains(app, { concurrency: 4 });
  assert.equal(before.checked, 2);
  let row = domainRow((await client.request('/domains')).text, DOMAIN);
  assert.equal(row.dots.mx, 'error');
  assert.equal(row.dots.spf, 'error');
  assert.match(row.html, /checked <time datetime="[\d-]+T[\d:.]+Z" title="[^"]+">(now|\d+ sec\. ago)<\/time>/, 'when, as a recent time');
  assert.notEqual(row.status, 'ok');
  await switchDnsToNew(land.dns);
  await recheckAllDomains(app, { concurrency: 4 });
  row = domainRow((await client.request('/domains')).text, DOMAIN);
  // No longer red; grey rather than green because the test zone has no address for the new MX host (a zone of its own).
  assert.notEqual(row.dots.mx, 'error');
  assert.notEqual(row.dots.spf, 'error');
  const api = await client.request('/api/domains');
  const body = JSON.parse(api.text) as { domains: Array<{ name: string; dots: Array<{ kind: string; status: string }> }> };
  assert.equal(body.domains.find((d) => d.name === DOMAIN)?.dots.find((d) => d.kind === 'mx')?.status, row.dots.mx);
});

test('GET /api/dns/:domain answers a token with the dots and fixes against the platform asked for, and keeps it a minute', { timeout: 60_000 }, async () => {
  const anonymous = await new Client(client.base).request(`/api/dns/${DOMAIN}?platform=old`);
  assert.notEqual(anonymous.status, 200);
  const { token } = await createToken(app.db, ADMIN.name, 'host-panel');
  const host = new Client(client.base, { authorization: `Bearer ${token}` });
  // After the switch, the zone points to "new": checked against "old", MX is red with the fix back to the old host.
  const res = await host.request(`/api/dns/${DOMAIN}?platform=old`);
  assert.equal(res.status, 200, res.text);
  assert.match(res.headers.get('cache-control') ?? '', /max-age=60/);
  const body = JSON.parse(res.text) as { status: string; dots: Array<{ kind: string; status: string }>; checks: Array<{ id: string; status: string; fix: string | null }> };
  assert.equal(body.dots.find((d) => d.kind === 'mx')?.status, 'error');
  assert.match(body.checks.find((c) => c.id === 'mx')?.fix ?? '', new RegExp(OLD_MX.replace(/\./g, '\\.')));
  const again = await host.request(`/api/dns/${DOMAIN}?platform=old`);
  assert.equal(JSON.parse(again.text).checkedAt, (body as unknown as { checkedAt: string }).checkedAt, 'the second answer comes from the cache');
  assert.equal((await host.request('/api/dns/not_a_domain?platform=old')).status, 400);
  assert.equal((await host.request(`/api/dns/${DOMAIN}?platform=nowhere`)).status >= 400, true);
});

test('a watched domain can be removed; a project\'s domain has no remove button', async () => {
  const list = await client.request('/domains');
  assert.doesNotMatch(domainRow(list.text, DOMAIN).html, /remove/);
  const token = await client.token('/domains');
  const removed = await client.request(`/domains/${ELSEWHERE}/remove`, { form: { _csrf: token } });
  assert.equal(removed.status, 303);
  assert.doesNotMatch((await client.request('/domains')).text, /data-domain="elsewhere\.test"/);
});

test('the dots helper a host panel can use labels every dot in the page\'s language', () => {
  const html = renderDnsDots([{ kind: 'mx', status: 'error', checked: true }, { kind: 'dkim', status: 'unknown', checked: false }], 'fr');
  assert.match(html, /data-kind="mx" data-status="error" title="MX: erreur"/);
  assert.match(html, /title="DKIM: non vérifié"/);
  assert.doesNotMatch(renderDnsDots([{ kind: 'mx', status: 'ok', checked: true }], 'en'), /<script/);
});

test('every word of the Domains page is in the translation tables', () => {
  const keys = [...readFileSync(new URL('../../views/domains.hbs', import.meta.url), 'utf8').matchAll(/\{\{t "([^"]+)"/g)].map((m) => m[1]!);
  assert.ok(keys.length > 5);
  for (const key of keys) assert.ok(isMessageKey(key), key);
});

test('in Chromium the Domains page draws mixed dots, each with its text, and a click opens the domain page', { timeout: 120_000 }, async () => {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(`${client.base}/login`);
    await page.fill('#name', ADMIN.name);
    await page.fill('#password', ADMIN.password);
    await page.click('button[type=submit] >> text=Log in');
    await page.waitForSelector('h1:has-text("Dashboard")');
    await page.goto(`${client.base}/domains`);
    await page.waitForSelector(`tr[data-domain="${DOMAIN}"] .dns-dot`);
    const dots = await page.locator('tr[data-domain] .dns-dot').evaluateAll((els) => els.map((el) => ({
      status: el.getAttribute('data-status'),
      label: (el.querySelector('.dot-label') as HTMLElement | null)?.innerText.trim() ?? '',
      colour: getComputedStyle(el.querySelector('.dot')!).backgroundColor,
    })));
    assert.ok(new Set(dots.map((d) => d.status)).size >= 2, `mixed dots: ${JSON.stringify(dots.map((d) => d.status))}`);
    assert.ok(dots.every((d) => d.label.length > 0), 'every dot has its text label');
    // Each status is drawn in a colour of its own.
    const colourOf = new Map(dots.map((d) => [d.status, d.colour]));
    assert.equal(new Set(colourOf.values()).size, colourOf.size, JSON.stringify([...colourOf]));
    await page.screenshot({ path: path.join(screenshotDir(), 'domains.png'), fullPage: true });
    await page.click(`tr[data-domain="${DOMAIN}"] a:has-text("${DOMAIN}")`);
    await page.waitForSelector(`h1:has-text("${DOMAIN}")`);
  } finally {
    await browser.cleanup();
  }
});

test('thousands of domains are drawn a page at a time, and "not green" keeps only those', async () => {
  const platformId = (await app.db('platforms').where({ name: 'new' }).first()).id;
  const now = new Date().toISOString();
  await app.db('watched_domains').insert(Array.from({ length: 150 }, (_, i) => ({ name: `bulk${String(i).padStart(3, '0')}.test`, platform_id: platformId, source: 'platform', nameservers: '', created_at: now })));
  await app.db('domain_checks').insert(Array.from({ length: 150 }, (_, i) => ({ name: `bulk${String(i).padStart(3, '0')}.test`, platform_id: platformId, status: i % 2 ? 'ok' : 'error', dots: '[]', checked_at: now })));
  const rows = (html: string) => [...html.matchAll(/<tr data-domain="([^"]+)" data-status="(\w+)">/g)].map((m) => ({ name: m[1]!, status: m[2]! }));
  const first = await client.request('/domains');
  assert.equal(rows(first.text).length, 100);
  assert.match(first.text, /href="\/panel\/domains\?page(=|&#x3D;)2" rel="next"/);
  const second = rows((await client.request('/domains?page=2')).text);
  assert.equal(second.length, 151 - 100, '150 bulk domains and the project\'s');
  const notGreen = await client.request('/domains?show=not-green');
  assert.ok(rows(notGreen.text).every((r) => r.status !== 'ok'));
  assert.equal(rows(notGreen.text).filter((r) => r.name.startsWith('bulk')).length, 75);
  assert.match(notGreen.text, /Not green \(\d+\)/);
});
