import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { launchChromium, startBrowserRun, stopBrowserRun } from '../support/browser.ts';
import { screenshotDir } from '../support/screenshots.ts';
import { cutover, startServe } from '../support/cli.ts';
import { DOMAIN, NEW_MX, OLD_MX, writePlatformConfig, type Landscape } from '../support/platforms.ts';

const ACCOUNTS = [{ address: 'alice@example.test', password: 'alice-pw' }, { address: 'bob@example.test', password: 'bob-pw' }];

let land: Landscape;
let dataDir: string;
let serve: ReturnType<typeof cutover> | undefined;
let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;

before(async () => {
  ({ land, dataDir } = await startBrowserRun(ACCOUNTS));
});
after(() => stopBrowserRun({ browser, serve, land }));

test('an admin logs in, opens a project made by a real migrate run, pauses a mailbox and switches language', { timeout: 240_000 }, async () => {
  const add = async (name: string, inst: Landscape['old'], mx: string) =>
    assert.equal((await cutover(['platform', 'add', name, '--plugin', 'postfixadmin', '--config', writePlatformConfig(inst, dataDir, name, mx)], { dataDir })).code, 0);
  await add('old', land.old, OLD_MX);
  await add('new', land.new, NEW_MX);
  assert.equal((await cutover(['admin', 'create', 'admin'], { dataDir, input: 'panel password 123\n' })).code, 0);
  // No --wait: the project and its mailboxes exist, the serve command's worker runs them; the DNS holds them at dns-cutover.
  const migrated = await cutover(['migrate', '--from', 'old', '--to', 'new', '--domain', DOMAIN, '--overlap', '0',
    '--nameserver', `127.0.0.1:${land.dns.port}`, '--dns-recheck', '1', '--name', 'browser'], { dataDir });
  assert.equal(migrated.code, 0, migrated.stderr);

  const started = await startServe(dataDir, 230_000);
  serve = started.serve;
  const { base } = started;

  browser = await launchChromium();
  const page = await browser.newPage();
  await page.goto(`${base}/`);
  assert.match(page.url(), /\/login\?next=/);
  await page.fill('#name', 'admin');
  await page.fill('#password', 'panel password 123');
  await page.click('button[type=submit] >> text=Log in');
  await page.waitForSelector('h1:has-text("Dashboard")');
  await page.click('a:has-text("browser")');
  await page.waitForSelector('h1:has-text("Project browser")');
  // The worker copies both mailboxes and stops at dns-cutover (the zone still points to old).
  await page.waitForFunction(() => document.querySelectorAll('tr[data-state="waiting"]').length === 2, undefined, { timeout: 150_000 });
  const rows = await page.locator('tbody tr[data-id]').allTextContents();
  assert.equal(rows.length, 2);
  assert.match(rows[0]!, /alice@example\.test\s*waiting\s*dns-cutover/);
  await page.screenshot({ path: path.join(screenshotDir(), 'project-waiting.png'), fullPage: true });

  await page.click('a:has-text("alice@example.test")');
  await page.waitForSelector('h1:has-text("Mailbox alice@example.test")');
  assert.ok(await page.locator('table >> text=INBOX').count() > 0, 'folder plan shown');
  assert.ok(await page.locator('td:has-text("copy-mail")').count() > 0, 'timeline from events');
  await page.click('button[value=pause]');
  await page.waitForSelector('.flash.ok:has-text("Pause: done.")');
  assert.equal(await page.textContent('#mailbox-state'), 'paused');

  await page.selectOption('select[name=lang]', 'fr');
  await page.click('#switch-language');
  await page.waitForSelector('#mailbox-state:has-text("en pause")');
  assert.match(await page.textContent('h2 >> nth=0') ?? '', /Actions/);
  assert.ok(await page.locator('button:has-text("Démarrer / reprendre")').count() === 1);
});
