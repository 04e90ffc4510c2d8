import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startPanelLandscape, type PanelLandscape } from '../support/panel-platforms.ts';
import { Client } from './client.ts';

let land: PanelLandscape;
const GB = 1_000_000_000;

before(async () => {
  // The destination allows 5 GB per mailbox, as OVHcloud's MX Plan does.
  land = await startPanelLandscape({
    domains: {
      'example.test': [
        { address: 'alice@example.test', password: 'a', quota: 6 * GB },
        { address: 'bob@example.test', password: 'b', quota: 4.8 * GB },
        { address: 'carol@example.test', password: 'c', quota: GB },
      ],
      'empty.test': [],
    },
    newOverrides: { maxMailboxBytes: 5 * GB },
  });
});
after(async () => { await land?.stop(); });

async function plan(client: Client, fields: Record<string, string>) {
  return client.request('/migrate/plan', { form: { _csrf: await client.token('/migrate'), startMode: 'auto', name: '', ...fields } });
}

function account(html: string, address: string): { fit: string; html: string } {
  const match = new RegExp(`<tr data-account="${address.replace(/\./g, '\\.')}" data-fit="(\\w+)">([\\s\\S]*?)</tr>`).exec(html);
  assert.ok(match, `no row for ${address}`);
  return { fit: match[1]!, html: match[2]! };
}

test('the plan shows the accounts with their size, the steps, and the size warnings', async () => {
  const form = await land.client.request('/migrate');
  assert.equal(form.status, 200);
  assert.match(form.text, /<option value="old">old<\/option>/);
  const res = await plan(land.client, { source: 'old', destination: 'new', domain: 'Example.TEST' });
  assert.equal(res.status, 200, res.text);
  assert.match(res.text, /Plan: example\.test from old to new/);
  assert.match(res.text, /3 account\(s\), 11\.8 GB in all/);
  assert.match(res.text, /The destination allows at most 5\.0 GB per mailbox\./);
  assert.deepEqual(['alice', 'bob', 'carol'].map((l) => account(res.text, `${l}@example.test`).fit), ['over', 'near', 'ok']);
  assert.match(account(res.text, 'alice@example.test').html, /6\.0 GB <span class="muted">\(quota\)<\/span>/);
  assert.match(res.text, /<li class="error" data-warning="too_big">alice@example\.test holds 6\.0 GB, more than the 5\.0 GB the destination allows/);
  assert.match(res.text, /<li class="error" data-warning="near_limit">bob@example\.test holds 4\.8 GB, close to the 5\.0 GB/);
  assert.doesNotMatch(res.text, /data-warning="[^"]+">carol/);
  for (const step of ['preflight', 'attach-domain', 'rename-source', 'create-destination', 'copy-mail', 'verify', 'dns-cutover', 'delta-sync', 'finalize']) {
    assert.match(res.text, new RegExp(`<li title="${step}">`), step);
  }
  assert.match(res.text, /Create the project and migrate 3 mailbox\(es\)/);
  assert.equal(Number((await land.app.db('projects').count({ n: '*' }))[0]!.n), 0, 'the plan writes nothing');
});

test('what cannot be planned or confirmed is said on the page', async () => {
  const unknown = await plan(land.client, { source: 'old', destination: 'new', domain: 'nowhere.test' });
  assert.equal(unknown.status, 400);
  assert.match(unknown.text, /The domain nowhere\.test does not exist on platform old\./);
  assert.match(unknown.text, /name="domain" value="nowhere\.test"/, 'the choice is kept');
  const empty = await plan(land.client, { source: 'old', destination: 'new', domain: 'empty.test' });
  assert.match(empty.text, /empty\.test has no active account on old\./);
  assert.doesNotMatch(empty.text, /action="\/panel\/migrate">/, 'nothing to confirm');
  const noMaster = await plan(land.client, { source: 'nomaster', destination: 'new', domain: 'example.test' });
  assert.match(noMaster.text, /data-warning="passwords_needed">nomaster has no master user/);
  assert.match(noMaster.text, /This migration cannot be started from here/);
  const same = await plan(land.client, { source: 'old', destination: 'old', domain: 'example.test' });
  assert.equal(same.status, 400);
  assert.match(same.text, /source and destination are the same platform/);
});

test('confirming creates the project with its mailboxes and opens its page', async () => {
  const res = await land.client.request('/migrate', { form: { _csrf: await land.client.token('/migrate'), source: 'old', destination: 'new', domain: 'example.test', name: 'MX Plan move', startMode: 'manual' } });
  assert.equal(res.status, 303, res.text);
  const project = await land.app.db('projects').where({ name: 'MX Plan move' }).first();
  assert.equal(res.headers.get('location'), `/panel/projects/${project.id}`);
  assert.deepEqual(await land.app.db('mailboxes').where({ project_id: project.id }).orderBy('address').pluck('address'), ['alice@example.test', 'bob@example.test', 'carol@example.test']);
  const page = await land.client.request(`/projects/${project.id}`);
  assert.match(page.text, /Project MX Plan move created with 3 mailbox\(es\)\./);
  assert.match(page.text, /Start \(3 mailbox\(es\) waiting\)/, 'manual start was kept');

  const again = await land.client.request('/migrate', { form: { _csrf: await land.client.token('/migrate'), source: 'old', destination: 'new', domain: 'example.test', name: 'MX Plan move', startMode: 'auto' } });
  assert.equal(again.status, 400);
  assert.match(again.text, /A project named &quot;MX Plan move&quot; already exists\./);
});

test('the plan in French', async () => {
  const fr = new Client(land.url, { 'accept-language': 'fr' });
  assert.equal((await fr.login()).status, 303);
  const res = await plan(fr, { source: 'old', destination: 'new', domain: 'example.test' });
  assert.match(res.text, /Plan : example\.test de old vers new/);
  assert.match(res.text, /alice@example\.test contient 6\.0 GB, plus que les 5\.0 GB autorisés par la destination/);
  assert.match(res.text, /dépasse la limite/);
});
