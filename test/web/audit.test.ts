import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { recordEvent } from '../../server/db/repos/events.ts';
import { insertMailbox, insertProject } from '../db/fixtures.ts';
import { ADMIN, Client, startPanel } from './client.ts';

let panel: Awaited<ReturnType<typeof startPanel>>;

before(async () => { panel = await startPanel({ pageSize: 5 }); });
after(async () => { await panel?.close(); });

const actions = async () => (await panel.app.db('audit').orderBy('id').select('actor', 'action', 'target')).map((r) => `${r.actor} ${r.action} ${r.target}`);

test('logins (refused and accepted), logout and token create/revoke are audited with who, what and when', async () => {
  const client = new Client(panel.url);
  assert.equal((await client.login(ADMIN.name, 'not the password')).status, 401);
  assert.equal((await client.login()).status, 303);
  const created = await client.request('/settings/tokens', { form: { _csrf: await client.token('/settings/tokens'), name: 'nightly' } });
  assert.equal(created.status, 201);
  const { id } = await panel.app.db('api_tokens').where({ name: 'nightly' }).first('id');
  await client.request(`/settings/tokens/${id}/revoke`, { form: { _csrf: await client.token('/settings/tokens') } });
  await client.request('/logout', { form: { _csrf: await client.token('/') } });
  assert.deepEqual(await actions(), [
    'ip:127.0.0.1 login.failed admin root',
    'web:root login admin root',
    `web:root token.create token #${id} nightly`,
    `web:root token.revoke token #${id} nightly`,
    'web:root logout admin root',
  ]);
  const rows = await panel.app.db('audit').select('at', 'detail');
  assert.ok(rows.every((r) => !Number.isNaN(Date.parse(r.at))));
  assert.ok(rows.every((r) => !/not the password|correct horse/.test(r.detail ?? '')), 'no password in the trail');
});

test('the audit page lists the trail and project events together, newest first, paginated, linked from the nav', async () => {
  const where = await insertProject(panel.app.db);
  const mailboxId = await insertMailbox(panel.app.db, where, 'uma@example.test');
  for (let i = 0; i < 6; i++) {
    await recordEvent(panel.app.db, { projectId: where.projectId, mailboxId, step: 'copy-mail', outcome: 'pause', message: `pause #${i} by web:root`, actor: 'web:root' });
  }
  const client = new Client(panel.url);
  assert.equal((await client.login()).status, 303);
  const home = await client.request('/');
  assert.match(home.text, /href="\/panel\/audit"/);
  const first = await client.request('/audit');
  assert.equal(first.status, 200);
  const rows = [...first.text.matchAll(/<tr class="(audit|event)">/g)].map((m) => m[1]);
  assert.equal(rows.length, 5, 'one page of 5');
  assert.deepEqual(rows.slice(0, 2), ['audit', 'event'], 'the login just now comes first, then the newest event');
  assert.match(first.text, /pause #5 by web:root/);
  assert.match(first.text, new RegExp(`<a href="/panel/mailboxes/${mailboxId}">uma@example\\.test</a>`));
  assert.match(first.text, /Page 1 of 3/);
  const last = await client.request('/audit?page=3');
  assert.match(last.text, /login\.failed/);
  assert.doesNotMatch(last.text, /pause #5/);
  assert.match(last.text, /rel="prev"/);
  assert.equal((await new Client(panel.url).request('/audit')).status, 303, 'admins only');
});
