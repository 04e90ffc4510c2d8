import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { launchChromium, startBrowserRun, stopBrowserRun } from '../support/browser.ts';
import { cutover, startServe } from '../support/cli.ts';
import { corpusFor } from '../support/corpus.ts';
import { snapshot } from '../support/mail.ts';
import { DOMAIN, NEW_MX, NEW_SPF, OLD_MX, switchDnsToNew, type Landscape } from '../support/platforms.ts';
import { screenshotDir } from '../support/screenshots.ts';

const ACCOUNTS = [{ address: 'alice@example.test', password: 'alice-pw' }, { address: 'bob@example.test', password: 'bob-pw' }];
const ADMIN = { name: 'admin', password: 'a long panel password' };

let land: Landscape;
let dataDir: string;
let serve: ReturnType<typeof cutover> | undefined;
let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;

before(async () => {
  ({ land, dataDir } = await startBrowserRun(ACCOUNTS));
});
after(() => stopBrowserRun({ browser, serve, land }));

async function shoot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(screenshotDir(), `${name}.png`), fullPage: true });
}

/** Fills the platform form generated from the postfixadmin schema, as an admin types it. */
async function addPlatform(page: Page, base: string, name: string, inst: Landscape['old'], mx: string, spf: string): Promise<void> {
  await page.goto(`${base}/platforms`);
  await page.click('a[href$="/platforms/new?plugin=postfixadmin"]');
  await page.fill('[name="name"]', name);
  await page.selectOption('[name="database.client"]', 'sqlite3');
  await page.fill('[name="database.filename"]', inst.dbPath);
  await page.fill('[name="imap.host"]', inst.host);
  await page.fill('[name="imap.port"]', String(inst.port));
  await page.selectOption('[name="imap.security"]', 'none');
  await page.fill('[name="masterUser.user"]', inst.masterUser);
  await page.fill('[name="masterUser.password"]', inst.masterPassword);
  await page.fill('[name="mailHost"]', mx);
  await page.fill('[name="expectedDns.mx"]', JSON.stringify([{ priority: 10, exchange: mx }]));
  await page.fill('[name="expectedDns.spfIncludes"]', spf);
  await page.click('form[action$="/platforms"] button[type=submit]');
  // Added after a successful connection test, the platform opens on its own page.
  await page.waitForSelector('.flash.ok, #form-errors, .flash.error');
  assert.equal(await page.locator('.flash.ok').count(), 1, await page.locator('main').innerText());
}

test('a newcomer sets up the panel, adds two platforms, imports a CSV, fixes its bad row and migrates a domain to green DNS', { timeout: 300_000 }, async () => {
  const started = await startServe(dataDir, 290_000);
  serve = started.serve;
  const { base } = started;
  browser = await launchChromium();
  const page = await browser.newPage();

  // First start: no admin yet, and the browser is on this machine, so the login page offers the setup page.
  await page.goto(`${base}/`);
  await page.click('#setup-link');
  await page.fill('#name', ADMIN.name);
  await page.fill('#password', ADMIN.password);
  await page.fill('#password2', ADMIN.password);
  await page.click('main form button[type=submit]');
  await page.waitForSelector('h1:has-text("Dashboard")');
  await shoot(page, 'dashboard-empty');

  await addPlatform(page, base, 'old', land.old, OLD_MX, 'spf.old.example.net');
  await addPlatform(page, base, 'new', land.new, NEW_MX, NEW_SPF);
  await page.goto(`${base}/platforms`);
  assert.equal(await page.locator('tr[data-platform]').count(), 2);
  await shoot(page, 'platforms');
  // Test connection: the login result and what the server and the connector can do.
  await page.click('tr[data-platform="new"] a');
  await page.fill('#test [name="domain"]', DOMAIN);
  await page.click('#test button[type=submit]');
  await page.waitForSelector('#imap-extensions');
  assert.match(await page.textContent('#imap-extensions') ?? '', /IDLE/);
  assert.match(await page.textContent('#capabilities') ?? '', /createAccount/);
  await shoot(page, 'platform-test');

  await page.goto(`${base}/projects/new`);
  await page.fill('[name="name"]', 'newcomer');
  await page.selectOption('[name="source"]', 'old');
  await page.selectOption('[name="destination"]', 'new');
  await page.check('[name="startMode"][value="manual"]');
  await page.click('details summary');
  await page.fill('[name="overlap"]', '0');
  await page.fill('[name="nameservers"]', `127.0.0.1:${land.dns.port}`);
  await page.fill('[name="dnsRecheck"]', '1s');
  await page.click('form[action$="/projects/new"] button[type=submit]');
  await page.waitForSelector('h1:has-text("Project newcomer")');

  // A CSV with one bad row: the dry run names it and nothing is imported.
  const csvDir = path.join(dataDir, 'csv');
  mkdirSync(csvDir, { recursive: true });
  const badCsv = path.join(csvDir, 'mailboxes.csv');
  writeFileSync(badCsv, 'address,source_password,dest_password\nalice@example.test,,\nbob@example,,\n');
  await page.click('#import-link');
  await page.setInputFiles('input[name="file"]', badCsv);
  await page.click('form[enctype="multipart/form-data"] button[type=submit]');
  await page.waitForSelector('[data-import-summary][data-bad="1"]');
  assert.match(await page.textContent('tr[data-bad][data-line="3"]') ?? '', /bob@example/);
  await shoot(page, 'import-dry-run');
  const fixedCsv = path.join(csvDir, 'mailboxes-fixed.csv');
  writeFileSync(fixedCsv, 'address,source_password,dest_password\nalice@example.test,,\nbob@example.test,,\n');
  await page.setInputFiles('input[name="file"]', fixedCsv);
  await page.click('form[enctype="multipart/form-data"] button[type=submit]');
  await page.waitForSelector('[data-import-summary][data-bad="0"]');
  await page.click('form[action$="/import/commit"] button[type=submit]');
  await page.waitForSelector('h1:has-text("Project newcomer")');
  assert.equal(await page.locator('tbody tr[data-state="paused"]').count(), 2, 'manual start: imported mailboxes wait for Start');

  // Start: the worker copies both mailboxes, live, and holds them at dns-cutover (the zone still points to old).
  await page.click('#project-start');
  await page.waitForFunction(() => document.querySelectorAll('tr[data-state="waiting"]').length === 2, undefined, { timeout: 150_000 });
  for (const bar of await page.locator('tbody progress').all()) assert.equal(await bar.getAttribute('value'), await bar.getAttribute('max'), 'progress at 100%');
  await shoot(page, 'project-copied');

  await page.click('a:has-text("alice@example.test")');
  await page.waitForSelector('h1:has-text("Mailbox alice@example.test")');
  assert.ok(await page.locator('td:has-text("copy-mail")').count() > 0, 'timeline from the event rows');
  await shoot(page, 'mailbox');

  // The dashboard lists the domain as not green, and links to its page.
  await page.goto(`${base}/`);
  assert.equal(await page.getAttribute(`#dns-not-green tr[data-domain="${DOMAIN}"]`, 'data-status'), 'error');
  await shoot(page, 'dashboard');
  await page.click(`#dns-not-green a:has-text("${DOMAIN}")`);
  await page.waitForSelector('#domain-status');
  assert.equal(await page.getAttribute('tr[data-check="mx"]', 'data-status'), 'error');
  assert.equal(await page.getAttribute('tr[data-check="spf"]', 'data-status'), 'error');
  await shoot(page, 'domain-red');
  // The admin changes the zone at the DNS host; "check now" turns the dots green.
  await switchDnsToNew(land.dns);
  await page.click('#check-now');
  await page.waitForSelector('tr[data-check="mx"][data-status="ok"]', { timeout: 30_000 });
  assert.equal(await page.getAttribute('tr[data-check="spf"]', 'data-status'), 'ok');
  assert.equal(await page.locator('tr[data-check][data-status="error"]').count(), 0, 'no red dot left');
  await shoot(page, 'domain-green');

  // With the DNS green the workflow runs its delta pass and finishes.
  await page.goto(`${base}/`);
  await page.click('a:has-text("newcomer")');
  await page.waitForFunction(() => document.querySelectorAll('tr[data-state="done"]').length === 2, undefined, { timeout: 90_000 });
  await shoot(page, 'project-done');
  await page.goto(`${base}/`);
  assert.equal(await page.locator('#dns-not-green').count(), 0, 'every domain green');
  for (const { address } of ACCOUNTS) {
    const copied = (await snapshot(land.new, address)).reduce((n, folder) => n + folder.messages.length, 0);
    assert.equal(copied, corpusFor(address).messages.length, `${address} complete on new`);
  }
});
