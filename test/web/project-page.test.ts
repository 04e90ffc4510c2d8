import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Knex } from 'knex';
import { insertProject } from '../db/fixtures.ts';
import { testDatabase } from '../support/database.ts';
import { Client, startPanel } from './client.ts';

let panel: Awaited<ReturnType<typeof startPanel>>;
let projectId: number;
let client: Client;
const N = 10_000;

before(async () => {
  panel = await startPanel();
  const where = await insertProject(panel.app.db);
  projectId = where.projectId;
  const now = new Date().toISOString();
  const rows = Array.from({ length: N }, (_, i) => ({
    project_id: where.projectId, domain_id: where.domainId, address: `user${String(i).padStart(5, '0')}@example.test`,
    state: i % 100 === 0 ? 'failed' : i % 10 === 0 ? 'paused' : 'queued', step: 'copy-mail', next_run_at: 0, created_at: now, updated_at: now,
    error_message: i % 100 === 0 ? 'boom' : null, preflight: JSON.stringify({ totalMessages: 40 }),
  }));
  for (let i = 0; i < rows.length; i += 500) await panel.app.db('mailboxes').insert(rows.slice(i, i + 500));
  client = new Client(panel.url);
  assert.equal((await client.login()).status, 303);
});
after(async () => { await panel?.close(); });

test('the project page of 10,000 mailboxes renders one page of rows, counted and paginated in SQL', async () => {
  const queries: string[] = [];
  const onQuery = (q: { sql: string }) => queries.push(q.sql);
  panel.app.db.on('query', onQuery);
  const started = performance.now();
  const res = await client.request(`/projects/${projectId}`);
  const ms = performance.now() - started;
  panel.app.db.off('query', onQuery);
  console.log(`# project page with ${N} mailboxes: ${ms.toFixed(1)} ms`);
  assert.equal(res.status, 200);
  assert.equal([...res.text.matchAll(/<tr data-id=/g)].length, 50);
  assert.match(res.text, /Page 1 of 200/);
  assert.match(res.text, /failed · 100/);
  assert.match(res.text, /paused · 900/);
  assert.match(res.text, /user00000@example\.test/);
  const select = queries.find((q) => /from [`"]mailboxes[`"]/.test(q) && /limit (\?|\$\d+)/.test(q));
  assert.ok(select, `the rows come from a LIMIT query:\n${queries.join('\n')}`);
  assert.ok(queries.every((q) => !/from [`"]mailboxes[`"]/.test(q) || /limit (\?|\$\d+)|group by|count\(/.test(q)), 'no query reads every mailbox');
});

test('filter by state and page through it', async () => {
  const res = await client.request(`/projects/${projectId}?state=failed&page=2`);
  assert.equal(res.status, 200);
  const addresses = [...res.text.matchAll(/>(user\d+@example\.test)</g)].map((m) => m[1]);
  assert.equal(addresses.length, 50);
  assert.equal(addresses[0], 'user05000@example.test');
  assert.match(res.text, /Page 2 of 2/);
  const json = JSON.parse((await client.request(`/api/projects/${projectId}/progress?state=failed&page=2`)).text);
  assert.equal(json.mailboxes.length, 50);
  assert.equal(json.mailboxes[0].progress.total, 40);
  assert.deepEqual(json.counts.find((c: { state: string }) => c.state === 'failed'), { state: 'failed', n: 100 });
});

test('a page past the last one shows the last page (its rows read again for it)', async () => {
  const res = await client.request(`/projects/${projectId}?state=failed&page=9`);
  assert.equal(res.status, 200);
  const addresses = [...res.text.matchAll(/>(user\d+@example\.test)</g)].map((m) => m[1]);
  assert.equal(addresses.length, 50);
  assert.equal(addresses[0], 'user05000@example.test');
  assert.match(res.text, /Page 2 of 2/);
});

test('bulk "retry failed" queues exactly the failed mailboxes, and the API does the same with its CSRF header', async () => {
  const token = await client.token(`/projects/${projectId}?state=failed`);
  const res = await client.request(`/projects/${projectId}/actions`, { form: { _csrf: token, action: 'retry', state: 'failed', back: `/panel/projects/${projectId}` } });
  assert.equal(res.status, 303);
  assert.match((await client.request(`/projects/${projectId}`)).text, /Retry failed: 100 mailbox\(es\) changed, 0 left as they were\./);
  assert.equal(Number((await panel.app.db('mailboxes').where({ project_id: projectId, state: 'failed' }).count({ n: '*' }))[0]!.n), 0);

  const session = JSON.parse((await client.request('/api/session')).text);
  const api = await client.request(`/api/projects/${projectId}/actions/resume`, { method: 'POST', json: { state: 'paused' }, headers: { 'x-csrf-token': session.csrfToken } });
  assert.equal(api.status, 200, api.text);
  assert.deepEqual(JSON.parse(api.text), { done: 900, skipped: 0 });
  const one = await panel.app.db('mailboxes').where({ project_id: projectId }).first();
  const refused = await client.request(`/api/mailboxes/${one.id}/actions/retry`, { method: 'POST', headers: { 'x-csrf-token': session.csrfToken } });
  assert.equal(refused.status, 409);
  assert.equal(JSON.parse(refused.text).error.code, 'ACTION_NOT_ALLOWED');
});

test('progress goes by bytes with an ETA, summed from the ledger of the shown page only, through its covering index', async () => {
  const shown: Array<{ id: number }> = await panel.app.db('mailboxes').where({ project_id: projectId }).orderBy('address').limit(50).select('id');
  const offPage: Array<{ id: number }> = await panel.app.db('mailboxes').where({ project_id: projectId }).orderBy('address', 'desc').limit(500).select('id');
  const preflight = JSON.stringify({ totalMessages: 40, totalBytes: 2_000_000, folders: [{ path: 'INBOX', messages: 30, bytes: 1_500_000 }, { path: 'Archive', messages: 10, bytes: 500_000 }] });
  await panel.app.db('mailboxes').whereIn('id', shown.map((r) => r.id)).update({ preflight, state: 'queued', step: 'copy-mail' });
  const tenMinutesAgo = new Date(Date.now() - 10 * 60_000).toISOString();
  await panel.app.db('sync_points').insert(shown.map((r) => ({ mailbox_id: r.id, pass: 1, step: 'copy-mail', started_at: tenMinutesAgo })));
  const ledgerRows = (ids: number[], perMailbox: number, size: number) => ids.flatMap((id) => Array.from({ length: perMailbox }, (_, uid) => ({
    mailbox_id: id, source_folder: 'INBOX', uidvalidity: 1, uid: uid + 1, dest_folder: 'INBOX', dest_uid: uid + 1, size, fingerprint: 'f', pass: 1,
  })));
  // Half of each shown mailbox's 2 MB in 10 minutes; and a big ledger of mailboxes that are not on the page.
  const rows = [...ledgerRows(shown.map((r) => r.id), 20, 50_000), ...ledgerRows(offPage.map((r) => r.id), 100, 10_000)];
  for (let i = 0; i < rows.length; i += 100) await panel.app.db('ledger').insert(rows.slice(i, i + 100));

  const queries: Array<{ sql: string; bindings: Knex.RawBinding[] }> = [];
  const onQuery = (q: { sql: string; bindings: Knex.RawBinding[] }) => queries.push(q);
  panel.app.db.on('query', onQuery);
  const started = performance.now();
  const res = await client.request(`/projects/${projectId}`);
  const ms = performance.now() - started;
  panel.app.db.off('query', onQuery);
  console.log(`# project page with ${N} mailboxes and ${rows.length} ledger rows: ${ms.toFixed(1)} ms`);
  assert.equal(res.status, 200);
  const cell = /<tr data-id="[^"]+" data-state="queued" data-copied="20">[^]*?<td class="progress">([^]*?)<\/td>/.exec(res.text)?.[1];
  assert.ok(cell, 'a shown mailbox with its progress cell');
  assert.match(cell, /<progress max="100" value="50">50%<\/progress> 20 \/ 40 messages/);
  assert.match(cell, /1\.0 MB of 2\.0 MB/);
  assert.match(cell, /about (10|11) min left/);

  const json = JSON.parse((await client.request(`/api/projects/${projectId}/progress`)).text);
  const first = json.mailboxes[0].progress;
  assert.deepEqual({ ...first, etaMinutes: undefined }, {
    copied: 20, copiedBytes: 1_000_000, total: 40, totalBytes: 2_000_000, percent: 50, etaMinutes: undefined,
    copiedSize: { value: '1.0', unit: 'MB' }, totalSize: { value: '2.0', unit: 'MB' },
  });
  assert.ok([10, 11].includes(first.etaMinutes));

  const ledger = queries.filter((q) => /from [`"]ledger[`"]/.test(q.sql));
  assert.equal(ledger.length, 1, ledger.map((q) => q.sql).join('\n'));
  assert.match(ledger[0]!.sql, /where [`"]mailbox_id[`"] in \(/);
  assert.equal(ledger[0]!.bindings.length, 50, 'only the shown page of mailboxes');
  if (testDatabase === 'sqlite') {
    const plan: Array<{ detail: string }> = await panel.app.db.raw(`explain query plan ${ledger[0]!.sql}`, ledger[0]!.bindings);
    assert.ok(plan.some((p) => /USING COVERING INDEX ledger_mailbox_pass_size/.test(p.detail)), JSON.stringify(plan));
  }
  assert.ok(queries.every((q) => !/from [`"]events[`"]/.test(q.sql)), 'copy start times come from sync points, not from the event log');
});
