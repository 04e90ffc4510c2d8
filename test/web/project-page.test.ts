import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { insertProject } from '../db/fixtures.ts';
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
  const select = queries.find((q) => /from `mailboxes`/.test(q) && /limit \?/.test(q));
  assert.ok(select, `the rows come from a LIMIT query:\n${queries.join('\n')}`);
  assert.ok(queries.every((q) => !/from `mailboxes`/.test(q) || /limit \?|group by|count\(/.test(q)), 'no query reads every mailbox');
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
