import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { addMailbox, startDovecot, type DovecotInstance } from '../../../server/devservers/dovecot.ts';
import { startKnot, type KnotInstance } from '../../../server/devservers/knot.ts';
import { addPlatform } from '../../../server/services/platforms.ts';
import { Client, startPanel } from '../../web/client.ts';
import { DOMAIN, NEW_MX, OLD_MX, startLandscape, type Landscape } from '../../support/platforms.ts';

let land: Landscape;
let tls: DovecotInstance;
let dns: KnotInstance;
let panel: Awaited<ReturnType<typeof startPanel>>;
let client: Client;
// The API reads a CA file only inside the operator's CUTOVER_SECRETS_DIR.
const secretsDir = mkdtempSync(path.join(os.tmpdir(), 'cutover-secrets-'));
const pinnedCa = path.join(secretsDir, 'customer-ca.pem');

before(async () => {
  [land, tls, panel] = await Promise.all([
    startLandscape({ accounts: [{ address: `alice@${DOMAIN}`, password: 'alice-old' }, { address: `bob@${DOMAIN}`, password: 'bob-old' }] }),
    startDovecot({ tls: true }),
    startPanel({}, { CUTOVER_SECRETS_DIR: secretsDir }),
  ]);
  copyFileSync(tls.certFile!, pinnedCa);
  await addMailbox(land.new, `alice@${DOMAIN}`, 'alice-new');
  await addMailbox(land.new, `bob@${DOMAIN}`, 'bob-new');
  // A customer domain whose RFC 6186 record names a server with a private certificate.
  dns = await startKnot({ zone: 'customer.test', records: [`_imaps._tcp IN SRV 0 1 ${tls.tlsPort} localhost.`, '@ IN MX 10 mx.customer.test.'] });
  await (await import('../../../server/devservers/dovecot.ts')).addDomain(tls, 'customer.test');
  await addMailbox(tls, 'someone@customer.test', 'someone-pw');
  for (const [name, inst, mailHost] of [['old', land.old, OLD_MX], ['new', land.new, NEW_MX]] as const) {
    await addPlatform(panel.app, { name, plugin: 'imap', config: { host: inst.host, port: inst.port, security: 'none', mailHost, expectedDns: { mx: [{ priority: 10, exchange: mailHost }], spfIncludes: [] } } }, 'test');
  }
  client = new Client(panel.url);
  assert.equal((await client.login()).status, 303);
});

after(async () => {
  await panel?.close();
  await Promise.allSettled([land?.stop(), tls?.stop(), dns?.stop()]);
});

test('the imap form offers Autodetect; a failure is said on the page and adds nothing; the API adds the platform', { timeout: 60_000 }, async () => {
  const form = await client.request('/platforms/new?plugin=imap');
  assert.equal(form.status, 200);
  assert.match(form.text, /<section class="panel-box" id="autodetect">/);
  assert.match(form.text, /<form method="post" action="\/panel\/platforms\/autodetect"/);
  assert.doesNotMatch((await client.request('/platforms/new?plugin=postfixadmin')).text, /id="autodetect"/, 'only plugins that can autodetect');

  // The certificate is the test server's own: without its CA the login is refused, as it should be.
  const refused = await client.request('/platforms/autodetect', { form: { _csrf: await client.token('/platforms/new?plugin=imap'), plugin: 'imap', name: 'cust', address: 'someone@customer.test', password: 'someone-pw', nameserver: `127.0.0.1:${dns.port}` } });
  assert.equal(refused.status, 422);
  assert.match(refused.text, /id="autodetect-error">The TLS certificate of localhost is not accepted/);
  assert.match(refused.text, /name="address" value="someone@customer\.test"/, 'the address is kept, the password is not');
  assert.doesNotMatch(refused.text, /someone-pw/);
  assert.equal(await panel.app.db('platforms').where({ name: 'cust' }).first(), undefined);

  const nothing = await client.request('/platforms/autodetect', { form: { _csrf: await client.token('/platforms/new?plugin=imap'), plugin: 'imap', name: 'none', address: 'someone@nowhere.customer.test', password: 'x', nameserver: `127.0.0.1:${dns.port}` } });
  assert.equal(nothing.status, 422);
  assert.match(nothing.text, /No usable IMAP settings found for nowhere\.customer\.test/);

  const session = JSON.parse((await client.request('/api/session')).text);
  const outside = await client.request('/api/platforms/autodetect', {
    json: { name: 'cust', address: 'someone@customer.test', password: 'someone-pw', nameservers: [`127.0.0.1:${dns.port}`], config: { caFile: tls.certFile } },
    headers: { 'x-csrf-token': session.csrfToken },
  });
  assert.equal(outside.status, 400, 'a CA file outside CUTOVER_SECRETS_DIR is not read from the API');
  assert.match(outside.text, /CUTOVER_SECRETS_DIR/);
  const api = await client.request('/api/platforms/autodetect', {
    json: { name: 'cust', address: 'someone@customer.test', password: 'someone-pw', nameservers: [`127.0.0.1:${dns.port}`], config: { caFile: pinnedCa } },
    headers: { 'x-csrf-token': session.csrfToken },
  });
  assert.equal(api.status, 201, api.text);
  const added = JSON.parse(api.text);
  assert.equal(added.plugin, 'imap');
  assert.equal(added.detected.source, 'SRV _imaps._tcp.customer.test');
  assert.equal(added.detected.login, 'ok');
  const edit = await client.request('/platforms/cust/edit');
  assert.match(edit.text, /name="host" value="localhost"/);
});

async function plan(fields: Record<string, string>) {
  return client.request('/migrate/plan', { form: { _csrf: await client.token('/migrate'), startMode: 'auto', name: '', source: 'old', destination: 'new', domain: DOMAIN, ...fields } });
}

test('one-click from an IMAP source takes a pasted list, checks each row\'s logins, and never sends the passwords back', { timeout: 60_000 }, async () => {
  const asks = await plan({});
  assert.equal(asks.status, 200, asks.text.slice(0, 500));
  assert.match(asks.text, /data-warning="accounts_needed">old cannot list the accounts of example\.test: paste them below/);
  assert.match(asks.text, /<textarea id="accounts" name="accounts"/);
  assert.doesNotMatch(asks.text, /Create the project and migrate/);

  const bad = await plan({ accounts: `alice@${DOMAIN},,alice-old,,alice-new\nbob@${DOMAIN},,wrong,,bob-new\n` });
  assert.match(bad.text, /data-warning="row_problem">Line 2 \(bob@example\.test\): source_login_failed\./);
  assert.doesNotMatch(bad.text, /Create the project and migrate/);

  const list = `address,source_password,dest_password\nalice@${DOMAIN},alice-old,alice-new\nbob@${DOMAIN},bob-old,bob-new\n`;
  const good = await plan({ accounts: list });
  assert.match(good.text, /<tr data-account="alice@example\.test"/);
  assert.match(good.text, /<tr data-account="bob@example\.test"/);
  assert.match(good.text, /Create the project and migrate 2 mailbox\(es\)/);
  assert.doesNotMatch(good.text, /alice-old|bob-new/, 'the passwords are carried sealed, never in clear');
  const sealed = /<form method="post" action="\/panel\/migrate">[\s\S]*?name="accountsSealed" value="([^"]+)"/.exec(good.text)?.[1]?.replace(/&#x3D;/g, '=');
  assert.ok(sealed);

  const tampered = await client.request('/migrate', { form: { _csrf: await client.token('/migrate'), source: 'old', destination: 'new', domain: DOMAIN, name: 'pasted', startMode: 'manual', accountsSealed: `x${sealed.slice(1)}` } });
  assert.equal(tampered.status, 400);
  assert.match(tampered.text, /the account list sent back with the form was altered: paste it again/);
  const created = await client.request('/migrate', { form: { _csrf: await client.token('/migrate'), source: 'old', destination: 'new', domain: DOMAIN, name: 'pasted', startMode: 'manual', accountsSealed: sealed } });
  assert.equal(created.status, 303, created.text.slice(created.text.indexOf("<main"), created.text.indexOf("<main") + 800));
  const rows = await panel.app.db('mailboxes').orderBy('address');
  assert.deepEqual(rows.map((r: { address: string }) => r.address), [`alice@${DOMAIN}`, `bob@${DOMAIN}`]);
  assert.equal(panel.app.box.open(rows[0].source_password_sealed), 'alice-old');
  assert.equal(panel.app.box.open(rows[1].dest_password_sealed), 'bob-new');
});

test('an import\'s dry run logs in with each row\'s login and password: the failing row is bad, the logins are sealed', { timeout: 60_000 }, async () => {
  const { createProject } = await import('../../../server/services/projects.ts');
  const { commitImport, dryRunImport, importRows } = await import('../../../server/services/import.ts');
  await addMailbox(land.old, `carol@${DOMAIN}`, 'carol-old');
  await addMailbox(land.old, `dave@${DOMAIN}`, 'dave-old');
  const project = await createProject(panel.app, { name: 'imported', source: 'old', destination: 'new', actor: 'test' });
  // Microsoft 365's own header names: EmailAddress, UserName (the source login), Password.
  const csv = `EmailAddress,UserName,Password,dest_password\ncarol@${DOMAIN},carol@${DOMAIN},carol-old,carol-new\ndave@${DOMAIN},dave@${DOMAIN},nope,dave-new\n`;
  const checked = await dryRunImport(panel.app, project.id, { data: Buffer.from(csv), name: 'batch.csv' }, 'test');
  assert.deepEqual([checked.total, checked.bad], [2, 1]);
  const bad = await importRows(panel.app, checked.id, { bad: true, limit: 10 });
  assert.deepEqual(bad.map((r) => [r.line, r.address, r.errors.map((e) => e.code)]), [[3, `dave@${DOMAIN}`, ['source_login_failed']]]);
  assert.equal(bad[0]!.errors[0]!.params.login, `dave@${DOMAIN}`);
  const imported = await commitImport(panel.app, project.id, { importId: checked.id, dropBad: true }, 'test');
  assert.deepEqual(imported.added, [`carol@${DOMAIN}`]);
  const row = await panel.app.db('mailboxes').where({ project_id: project.id }).first();
  assert.equal(panel.app.box.open(row.source_login_sealed), `carol@${DOMAIN}`);
  assert.equal(row.dest_login_sealed, null);
});

test('a manual step shows its instructions on the mailbox page with the button that confirms it', { timeout: 60_000 }, async () => {
  const { runWorker } = await import('../../../server/workflow/runner.ts');
  const project = await panel.app.db('projects').where({ name: 'imported' }).first();
  await runWorker(panel.app, { projectId: project.id, untilIdle: true });
  const row = await panel.app.db('mailboxes').where({ project_id: project.id }).first();
  assert.deepEqual([row.step, row.state], ['attach-domain', 'needs_admin']);
  const page = await client.request(`/mailboxes/${row.id}`);
  assert.match(page.text, /The destination platform cannot attach domains: there, make sure example\.test is accepted/);
  assert.match(page.text, /relay recipients it does not know to mx\.old\.example\.net/);
  assert.match(page.text, /<button type="submit" name="action" value="confirm">Confirm step done<\/button>/);
  const done = await client.request(`/mailboxes/${row.id}/actions`, { form: { _csrf: await client.token(`/mailboxes/${row.id}`), action: 'confirm' } });
  assert.equal(done.status, 303);
  await runWorker(panel.app, { projectId: project.id, untilIdle: true });
  const after = await panel.app.db('mailboxes').where({ id: row.id }).first();
  // rename-source was skipped with its reason; carol has no account on the destination yet: the next manual step.
  assert.deepEqual([after.step, after.state], ['create-destination', 'needs_admin']);
  const timeline = (await client.request(`/mailboxes/${row.id}`)).text;
  assert.match(timeline, /skipped: old \(imap\) → new \(imap\): no rename needed, each keeps its own carol@example\.test during the overlap/);
  assert.match(timeline, /create carol@example\.test and the destination password given for it in the import, then confirm on this mailbox(?:'|&#x27;)s page \(Confirm step done\)/);
});
