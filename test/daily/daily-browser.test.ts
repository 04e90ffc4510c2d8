// Headless Chromium over the daily-use parts of the project page: the charts drawn (SVG with its
// accessible name), a project waiting for its start time, the French texts, and Delete now.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { insertMailbox, insertProject } from '../db/fixtures.ts';
import { sampleStates } from '../../server/daily/charts.ts';
import { launchChromium } from '../support/browser.ts';
import { screenshotDir } from '../support/screenshots.ts';
import { ADMIN, startPanel } from '../web/client.ts';

let panel: Awaited<ReturnType<typeof startPanel>>;
let browser: Awaited<ReturnType<typeof launchChromium>>;

before(async () => {
  panel = await startPanel();
  browser = await launchChromium();
});
after(async () => { await browser?.cleanup(); await panel?.close(); });

test('the project page in Chromium: charts, "waits for its start time", French, and the retention purge', async () => {
  const p = await insertProject(panel.app.db);
  const startAt = new Date(Date.now() + 5 * 3600_000).toISOString();
  await panel.app.db('projects').where({ id: p.projectId }).update({ name: 'nightly', options: JSON.stringify({ startAt, copyWindow: { from: '20:00', to: '07:00', timeZone: 'Europe/Paris' }, maxBytesPerSecond: 2_000_000, timeZone: 'Europe/Paris' }) });
  const mailboxes = await Promise.all(['ana', 'ben', 'cho'].map((who, i) => insertMailbox(panel.app.db, p, `${who}@example.test`, { state: ['done', 'stopped', 'failed'][i], step: 'finalize', dest_password_sealed: panel.app.box.seal(`pw-${who}`) })));
  const minute = Math.floor(Date.now() / 60_000) - 30;
  await panel.app.db('progress_samples').insert(Array.from({ length: 30 }, (_, i) => ({ mailbox_id: mailboxes[i % 3]!, project_id: p.projectId, minute: minute + i, messages: 20 + Math.round(30 * Math.sin(i / 4) ** 2), bytes: (20 + i) * 90_000 })));
  await panel.app.db('ledger').insert({ mailbox_id: mailboxes[0], source_folder: 'INBOX', uidvalidity: 1, uid: 1, dest_folder: 'INBOX', dest_uid: 1, size: 100, fingerprint: 'f', pass: 1 });
  for (let i = 0; i < 5; i++) await sampleStates(panel.app, Date.now() - (5 - i) * 60_000);

  const page = await browser.newPage();
  await page.goto(`${panel.url}/login`);
  await page.fill('#name', ADMIN.name);
  await page.fill('#password', ADMIN.password);
  await page.click('button[type=submit] >> text=Log in');
  await page.waitForSelector('h1:has-text("Dashboard")');
  await page.goto(`${panel.url}/projects/${p.projectId}`);
  await page.waitForSelector('h1:has-text("Project nightly")');

  const hold = page.locator('[data-hold="start"]');
  assert.match(await hold.innerText(), /^Waits for its start time: in (4|5) hours\.$/);
  const chart = page.getByRole('img', { name: 'Messages copied per minute' });
  assert.equal(await chart.count(), 1, 'the chart is an image with its accessible name');
  const box = await chart.boundingBox();
  assert.ok(box && box.width > 300 && box.height > 100, `drawn: ${JSON.stringify(box)}`);
  const line = await page.locator('#chart-messages path.line').boundingBox();
  assert.ok(line && line.width > 200, 'the line spans the chart');
  assert.equal(await page.getByRole('img', { name: 'Mailboxes per state' }).count(), 1);
  await page.locator('section.daily h2:has-text("Progress over time")').scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(screenshotDir(), 'project-charts.png'), fullPage: true });

  // French: the admin's own setting, and the times inside the sentences.
  await page.goto(`${panel.url}/settings`);
  await page.selectOption('select[name=language]', 'fr');
  await page.selectOption('select[name=timeZone]', 'Europe/Paris');
  await page.click('#settings-save');
  await page.waitForSelector('.flash.ok:has-text("heures en Europe/Paris")');
  await page.goto(`${panel.url}/projects/${p.projectId}`);
  assert.match(await page.locator('[data-hold="start"]').innerText(), /^Attend son heure de départ\s: dans (4|5)\sheures\.$/);
  assert.equal(await page.getByRole('img', { name: 'Messages copiés par minute' }).count(), 1);
  assert.match(await page.locator('[data-retention]').innerText(), /Le projet s’est terminé|Le projet s'est terminé/);

  // Delete now, confirmed on the page (no JavaScript dialog).
  await page.click('summary:has-text("Supprimer maintenant les données de migration")');
  await page.check('input[name=confirm][value=yes] >> nth=-1');
  await page.click('#purge-now');
  await page.waitForSelector('.flash.ok:has-text("Supprimé : 3 mot(s) de passe")');
  assert.match(await page.locator('[data-retention]').innerText(), /^Données de migration supprimées (maintenant|il y a)/);
  await page.screenshot({ path: path.join(screenshotDir(), 'project-purged-fr.png'), fullPage: true });
  const rows = await panel.app.db('mailboxes').where({ project_id: p.projectId });
  assert.deepEqual(rows.map((r) => r.dest_password_sealed), [null, null, null]);
  assert.equal(await panel.app.db('ledger').whereIn('mailbox_id', mailboxes).count({ n: '*' }).first().then((r) => Number(r?.n)), 0);

  await page.goto(`${panel.url}/mailboxes/${mailboxes[0]}`);
  assert.equal(await page.getByRole('img', { name: 'Messages copiés jusqu’ici' }).or(page.getByRole('img', { name: "Messages copiés jusqu'ici" })).count(), 1);
  await page.locator('#chart-mailbox').screenshot({ path: path.join(screenshotDir(), 'mailbox-chart.png') });
});
