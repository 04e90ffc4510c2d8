import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startPanelLandscape, upload, type PanelLandscape } from '../support/panel-platforms.ts';

let land: PanelLandscape;
let csrf: string;
const GB = 1_000_000_000;

before(async () => {
  land = await startPanelLandscape({
    domains: { 'example.test': ['alice', 'bob', 'carol', 'dave', 'erin'].map((local) => ({ address: `${local}@example.test`, password: `${local}-pw`, quota: local === 'erin' ? 7 * GB : 0 })) },
    newOverrides: { maxMailboxBytes: 5 * GB },
  });
  csrf = JSON.parse((await land.client.request('/api/session')).text).csrfToken;
});
after(async () => { await land?.stop(); });

async function api(method: string, path: string, json?: unknown): Promise<{ status: number; body: any }> {
  const res = await land.client.request(`/api${path}`, { method, json, headers: { 'x-csrf-token': csrf } });
  return { status: res.status, body: res.text ? JSON.parse(res.text) : null };
}

test('create a project, add mailboxes all or nothing, start, stop, complete and remove it', async () => {
  const invalid = await api('POST', '/projects', { name: 'api', source: 'old', destination: 'new', options: { startMode: 'sometimes' } });
  assert.equal(invalid.status, 400);
  assert.equal(invalid.body.error.code, 'INPUT_INVALID');
  assert.match(invalid.body.error.message, /startMode/);
  assert.equal((await api('POST', '/projects', { name: 'api' })).status, 400, 'missing fields are named');
  assert.equal((await api('POST', '/projects', { name: 'api', source: 'nowhere', destination: 'new' })).body.error.code, 'PLATFORM_UNKNOWN');

  const created = await api('POST', '/projects', { name: 'api', source: 'old', destination: 'new', options: { startMode: 'manual', notify: ['ops@example.net'] } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const id = created.body.id;
  assert.deepEqual([created.body.name, created.body.state, created.body.options.startMode], ['api', 'active', 'manual']);
  assert.equal((await api('POST', '/projects', { name: 'api', source: 'old', destination: 'new' })).status, 409);

  const bad = await api('POST', `/projects/${id}/mailboxes`, { mailboxes: [{ address: 'alice@example.test', sourcePassword: 'pw' }, { address: 'nope' }, { address: 'zed@example.test' }] });
  assert.equal(bad.status, 400);
  assert.deepEqual(bad.body.error.rows.map((r: { line: number; errors: Array<{ code: string }> }) => [r.line, r.errors.map((e) => e.code)]), [[2, ['address_invalid']], [3, ['account_unknown']]]);
  assert.equal(bad.body.error.rows[1].errors[0].message, 'zed@example.test does not exist on the source platform.');
  assert.doesNotMatch(JSON.stringify(bad.body), /"pw"/, 'no password in the answer');
  assert.equal((await api('GET', `/projects/${id}/stats`)).body.mailboxes.length, 0, 'all or nothing');

  const added = await api('POST', `/projects/${id}/mailboxes`, [{ address: 'alice@example.test' }, { address: 'bob@example.test', destPassword: 'Bob-New-12' }]);
  assert.equal(added.status, 201);
  assert.deepEqual(added.body.added, ['alice@example.test', 'bob@example.test']);

  assert.deepEqual((await api('POST', `/projects/${id}/start`)).body, { started: 2 });
  const del = await api('DELETE', `/projects/${id}`);
  assert.equal(del.status, 409);
  assert.equal(del.body.error.code, 'PROJECT_BUSY');
  assert.equal((await api('POST', `/projects/${id}/complete`)).status, 409);

  const alice = await land.app.db('mailboxes').where({ project_id: id, address: 'alice@example.test' }).first();
  await land.app.db('ledger').insert([1, 2].map((uid) => ({ mailbox_id: alice.id, source_folder: 'INBOX', uidvalidity: 7, uid, dest_folder: 'INBOX', dest_uid: uid, size: 1000, fingerprint: `f${uid}`, pass: 1 })));
  await land.app.db('skips').insert([{ mailbox_id: alice.id, source_folder: 'INBOX', uidvalidity: 7, uid: 3, size: 50_000, kind: 'too-big', reason: 'over the limit' }, { mailbox_id: alice.id, source_folder: 'INBOX', uidvalidity: 7, uid: 4, size: 10, kind: 'refused', reason: 'NO' }]);
  const stats = await api('GET', `/projects/${id}/stats`);
  assert.equal(stats.status, 200);
  const a = stats.body.mailboxes.find((m: { address: string }) => m.address === 'alice@example.test');
  assert.deepEqual([a.state, a.step, a.copiedMessages, a.copiedBytes, a.skippedMessages, a.skippedBytes, a.refusedMessages], ['queued', 'preflight', 2, 2000, 1, 50_000, 1]);

  assert.deepEqual((await api('POST', `/projects/${id}/stop`)).body, { stopped: 2, skipped: 0 });
  assert.deepEqual((await api('POST', `/projects/${id}/complete`)).body, { state: 'completed' });
  assert.deepEqual((await api('DELETE', `/projects/${id}`)).body, { removed: 'api', mailboxes: 2 });
  assert.equal((await api('GET', `/projects/${id}/stats`)).status, 404);
});

test('import through the API: a dry run, a refused commit, then dropBad', async () => {
  const id = (await api('POST', '/projects', { name: 'api-import', source: 'old', destination: 'new' })).body.id;
  const file = { name: 'wave.csv', data: 'address,source_password\ncarol@example.test,c-pw\nbroken\ndave@example.test,\n' };
  const path = `/api/projects/${id}/import`;
  const dry = await upload(land.client, path, {}, file, { 'x-csrf-token': csrf });
  assert.equal(dry.status, 200, dry.text);
  const body = JSON.parse(dry.text);
  assert.deepEqual([body.import.total, body.import.bad], [3, 1]);
  assert.deepEqual(body.rows.map((r: { line: number; sourcePassword: boolean; errors: unknown[] }) => [r.line, r.sourcePassword, r.errors.length]), [[2, true, 0], [3, false, 1], [4, false, 0]]);
  assert.doesNotMatch(dry.text, /c-pw/);

  const refused = await upload(land.client, `${path}?commit=1`, {}, file, { 'x-csrf-token': csrf });
  assert.equal(refused.status, 400);
  assert.deepEqual(JSON.parse(refused.text).error.rows.map((r: { line: number }) => r.line), [3]);
  assert.equal(Number((await land.app.db('mailboxes').where({ project_id: id }).count({ n: '*' }))[0]!.n), 0);
  assert.equal(JSON.parse((await land.client.request(`/api/projects/${id}/import`)).text).import.fileName, 'wave.csv', 'the dry run is kept for later');

  const imported = await upload(land.client, `${path}?commit=1&dropBad=1`, {}, file, { 'x-csrf-token': csrf });
  assert.equal(imported.status, 201, imported.text);
  assert.deepEqual(JSON.parse(imported.text).added, ['carol@example.test', 'dave@example.test']);
  const tooBig = await upload(land.client, path, {}, { name: 'big.csv', data: Buffer.alloc(5 * 1024 * 1024 + 10, 'x') }, { 'x-csrf-token': csrf });
  assert.equal(tooBig.status, 400);
  assert.match(JSON.parse(tooBig.text).error.message, /larger than 5 MB/);
  assert.equal((await upload(land.client, path, {}, file)).status, 403, 'no CSRF header, no upload');
});

test('bulk sync now through the API, and the one-click plan and migration', async () => {
  const planned = await api('POST', '/migrate/plan', { source: 'old', destination: 'new', domain: 'example.test' });
  assert.equal(planned.status, 200);
  assert.equal(planned.body.accounts.length, 5);
  assert.deepEqual(planned.body.warnings.map((w: { code: string }) => w.code), ['too_big']);
  assert.deepEqual(planned.body.warnings[0].params, { address: 'erin@example.test', bytes: 7 * GB, limit: 5 * GB });
  assert.equal(planned.body.steps[0].id, 'preflight');
  assert.equal((await api('POST', '/migrate/plan', { source: 'old', destination: 'new', domain: 'nowhere.test' })).body.error.code, 'DOMAIN_UNKNOWN');

  // carol and dave belong to the still-active project of the previous test: the migration is refused whole.
  const busy = await api('POST', '/migrate', { source: 'old', destination: 'new', domain: 'example.test', name: 'whole-domain' });
  assert.equal(busy.status, 400);
  assert.match(busy.body.error.message, /already being migrated.*carol@example\.test \(project api-import/);
  const previous = await land.app.db('projects').where({ name: 'api-import' }).first();
  await api('POST', `/projects/${previous.id}/stop`);
  await api('POST', `/projects/${previous.id}/complete`);

  const migrated = await api('POST', '/migrate', { source: 'old', destination: 'new', domain: 'example.test', name: 'whole-domain', options: { overlapSeconds: 0 } });
  assert.equal(migrated.status, 201, JSON.stringify(migrated.body));
  assert.equal(migrated.body.mailboxes.length, 5);
  const id = migrated.body.projectId;
  await land.app.db('mailboxes').where({ project_id: id, address: 'alice@example.test' }).update({ step: 'delta-sync', state: 'waiting', next_run_at: Date.now() + 3_600_000 });
  assert.deepEqual((await api('POST', `/projects/${id}/actions/sync`)).body, { done: 1, skipped: 4 });
  assert.equal(Number((await land.app.db('mailboxes').where({ project_id: id, address: 'alice@example.test' }).first()).next_run_at), 0);
});
