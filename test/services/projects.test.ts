import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CutoverError } from '../../server/errors.ts';
import { mailboxAction } from '../../server/services/actions.ts';
import { RowsInvalidError } from '../../server/services/mailbox-rows.ts';
import { completeProject, removeProject, startProject, stopProject } from '../../server/services/project-lifecycle.ts';
import { addMailboxes } from '../../server/services/project-mailboxes.ts';
import { createDomainMigration, createProject } from '../../server/services/projects.ts';
import { claimDue } from '../../server/workflow/lease.ts';
import { startPanelLandscape, type PanelLandscape } from '../support/panel-platforms.ts';

let land: PanelLandscape;
const ACTOR = 'test:admin';

before(async () => {
  land = await startPanelLandscape({
    domains: {
      'example.test': [{ address: 'alice@example.test', password: 'a' }, { address: 'bob@example.test', password: 'b' }, { address: 'carol@example.test', password: 'c' }],
      'other.test': [{ address: 'dan@other.test', password: 'd' }],
    },
  });
});
after(async () => { await land?.stop(); });

async function refused(promise: Promise<unknown>, code: string, pattern?: RegExp): Promise<CutoverError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof CutoverError, String(err));
    assert.equal(err.code, code, err.message);
    if (pattern) assert.match(err.message, pattern);
    return err;
  }
  assert.fail(`expected ${code}`);
}

async function count(table: string, where: Record<string, unknown> = {}): Promise<number> {
  return Number((await land.app.db(table).where(where).count({ n: '*' }))[0]!.n);
}

test('a new project is checked whole before anything is written', async () => {
  const base = { name: 'checked', source: 'old', destination: 'new', actor: ACTOR };
  await refused(createProject(land.app, { ...base, name: '  ' }), 'INPUT_INVALID', /needs a name/);
  await refused(createProject(land.app, { ...base, destination: 'old' }), 'INPUT_INVALID', /same platform/);
  await refused(createProject(land.app, { ...base, source: 'nowhere' }), 'PLATFORM_UNKNOWN');
  const badOptions = await refused(createProject(land.app, { ...base, options: { concurrency: 0, tempPattern: '{local}-old@{domain}', notify: ['not-an-address'] } }), 'INPUT_INVALID');
  for (const field of [/concurrency: /, /tempPattern: must contain/, /notify\.0: /]) assert.match(badOptions.message, field, 'every bad option is named');
  await refused(createProject(land.app, { ...base, options: { dnsProvider: 'old' } }), 'DNS_PROVIDER_UNSUITABLE', /not a DNS provider/);
  assert.equal(await count('projects'), 0, 'no refused project left a row');

  const project = await createProject(land.app, { ...base, options: { startMode: 'manual', notify: ['ops@example.net'], excludeFolders: ['Junk'], maxMessageBytes: 25_000_000 } });
  assert.equal(project.state, 'active');
  const options = JSON.parse(project.options);
  assert.deepEqual([options.startMode, options.notify, options.excludeFolders, options.maxMessageBytes, options.concurrency], ['manual', ['ops@example.net'], ['Junk'], 25_000_000, 4]);
  await refused(createProject(land.app, base), 'PROJECT_EXISTS');
  assert.equal((await land.app.db('events').where({ project_id: project.id }).first()).outcome, 'created');
  await removeProject(land.app, project.id, ACTOR);
});

test('mailboxes are added all or nothing, with domains created and passwords sealed', async () => {
  const project = await createProject(land.app, { name: 'adding', source: 'old', destination: 'new', actor: ACTOR });
  const err = await refused(addMailboxes(land.app, project.id, [
    { line: 1, address: 'alice@example.test' }, { line: 2, address: 'nobody@example.test' }, { line: 3, address: 'ALICE@example.test' },
  ], ACTOR), 'INPUT_INVALID');
  assert.ok(err instanceof RowsInvalidError);
  assert.deepEqual(err.rows.map((r) => r.errors.map((e) => e.code)), [[], ['account_unknown'], ['duplicate']]);
  assert.equal(await count('mailboxes', { project_id: project.id }), 0, 'one bad row refuses the batch');

  const added = await addMailboxes(land.app, project.id, [
    { line: 1, address: ' Alice@Example.test ', sourcePassword: 'alice-old', destPassword: 'Alice-New-1' }, { line: 2, address: 'dan@other.test' },
  ], ACTOR);
  assert.deepEqual(added, ['alice@example.test', 'dan@other.test']);
  const domains = await land.app.db('domains').where({ project_id: project.id }).orderBy('name').pluck('name');
  assert.deepEqual(domains, ['example.test', 'other.test']);
  const alice = await land.app.db('mailboxes').where({ project_id: project.id, address: 'alice@example.test' }).first();
  assert.equal(alice.state, 'queued', 'automatic start: queued at once');
  assert.equal(alice.step, 'preflight');
  assert.notEqual(alice.source_password_sealed, 'alice-old');
  assert.equal(land.app.box.open(alice.source_password_sealed), 'alice-old');
  assert.equal(land.app.box.open(alice.dest_password_sealed), 'Alice-New-1');
  assert.equal(Boolean(alice.dest_password_generated), false);
  const dan = await land.app.db('mailboxes').where({ project_id: project.id, address: 'dan@other.test' }).first();
  assert.match(land.app.box.open(dan.dest_password_sealed), /^[A-Za-z0-9]{20}$/, 'a destination password is generated');
  assert.equal(Boolean(dan.dest_password_generated), true);
  assert.equal(dan.source_password_sealed, null);
  await refused(addMailboxes(land.app, project.id, [{ line: 1, address: 'alice@example.test' }], ACTOR), 'INPUT_INVALID');

  await stopProject(land.app, project.id, ACTOR);
  await removeProject(land.app, project.id, ACTOR);
});

test('manual start: mailboxes wait, unpicked, until Start; a mailbox paused mid-way stays paused', async () => {
  const project = await createProject(land.app, { name: 'manual', source: 'old', destination: 'new', options: { startMode: 'manual' }, actor: ACTOR });
  await addMailboxes(land.app, project.id, [{ line: 1, address: 'alice@example.test' }, { line: 2, address: 'bob@example.test' }, { line: 3, address: 'carol@example.test' }], ACTOR);
  const states = await land.app.db('mailboxes').where({ project_id: project.id }).pluck('state');
  assert.deepEqual(states, ['paused', 'paused', 'paused']);
  assert.deepEqual(await claimDue(land.app.db, 'test-worker', 10, Date.now(), project.id), [], 'the worker picks none of them');
  // Carol was started earlier and paused by an admin at copy-mail: Start is not for her.
  await land.app.db('mailboxes').where({ project_id: project.id, address: 'carol@example.test' }).update({ step: 'copy-mail' });

  assert.deepEqual(await startProject(land.app, project.id, ACTOR), { started: 2 });
  const after = Object.fromEntries((await land.app.db('mailboxes').where({ project_id: project.id }).select('address', 'state')).map((r) => [r.address, r.state]));
  assert.deepEqual(after, { 'alice@example.test': 'queued', 'bob@example.test': 'queued', 'carol@example.test': 'paused' });
  const claimed = await claimDue(land.app.db, 'test-worker', 10, Date.now(), project.id);
  assert.equal(claimed.length, 2);
  await land.app.db('mailboxes').whereIn('id', claimed).update({ locked_by: null, locked_until: null });
  await refused(mailboxAction(land.app, 'carol@example.test', 'start', ACTOR), 'ACTION_NOT_ALLOWED', /paused at copy-mail/);
  assert.ok(await land.app.db('events').where({ project_id: project.id, outcome: 'started' }).first(), 'the start is on the timeline');

  await stopProject(land.app, project.id, ACTOR);
  await removeProject(land.app, project.id, ACTOR);
});

test('complete is refused while mailboxes are under way; a completed project is left alone', async () => {
  const project = await createProject(land.app, { name: 'completing', source: 'old', destination: 'new', actor: ACTOR });
  await addMailboxes(land.app, project.id, [{ line: 1, address: 'alice@example.test' }, { line: 2, address: 'bob@example.test' }], ACTOR);
  await refused(completeProject(land.app, project.id, ACTOR), 'PROJECT_BUSY', /2 mailbox\(es\) are still in progress \(2 queued\)/);
  await land.app.db('mailboxes').where({ project_id: project.id, address: 'alice@example.test' }).update({ state: 'done', step: 'finalize' });
  assert.deepEqual(await stopProject(land.app, project.id, ACTOR), { stopped: 1, skipped: 1 });
  assert.deepEqual(await completeProject(land.app, project.id, ACTOR), { state: 'completed' });
  assert.deepEqual(await completeProject(land.app, project.id, ACTOR), { state: 'completed' }, 'completing twice is no error');
  await refused(mailboxAction(land.app, 'bob@example.test', 'resume', ACTOR), 'ACTION_NOT_ALLOWED', /which is completed/);
  await refused(addMailboxes(land.app, project.id, [{ line: 1, address: 'carol@example.test' }], ACTOR), 'ACTION_NOT_ALLOWED');
  // A completed project no longer holds its addresses: another project may take them.
  const next = await createProject(land.app, { name: 'after-completing', source: 'old', destination: 'new', actor: ACTOR });
  await addMailboxes(land.app, next.id, [{ line: 1, address: 'bob@example.test' }], ACTOR);
  await stopProject(land.app, next.id, ACTOR);
  await removeProject(land.app, next.id, ACTOR);
  await removeProject(land.app, project.id, ACTOR);
});

test('remove is refused while a mailbox runs, then forgets every row of the project in one go', async () => {
  const project = await createProject(land.app, { name: 'removing', source: 'old', destination: 'new', actor: ACTOR });
  await addMailboxes(land.app, project.id, [{ line: 1, address: 'alice@example.test' }, { line: 2, address: 'bob@example.test' }], ACTOR);
  const alice = await land.app.db('mailboxes').where({ project_id: project.id, address: 'alice@example.test' }).first();
  await land.app.db('ledger').insert({ mailbox_id: alice.id, source_folder: 'INBOX', uidvalidity: 1, uid: 1, dest_folder: 'INBOX', dest_uid: 1, size: 10, fingerprint: 'f', pass: 1 });
  await land.app.db('skips').insert({ mailbox_id: alice.id, source_folder: 'INBOX', uidvalidity: 1, uid: 2, size: 10, kind: 'too-big', reason: 'r' });
  await refused(removeProject(land.app, project.id, ACTOR), 'PROJECT_BUSY', /remove project removing: 2 mailbox/);
  assert.equal(await count('mailboxes', { project_id: project.id }), 2, 'a refused removal removes nothing');

  await land.app.db('mailboxes').where({ id: alice.id }).update({ state: 'failed' });
  await mailboxAction(land.app, 'bob@example.test', 'pause', ACTOR);
  assert.deepEqual(await removeProject(land.app, project.id, ACTOR), { removed: 'removing', mailboxes: 2 });
  for (const [table, where] of [['projects', { id: project.id }], ['mailboxes', { project_id: project.id }], ['domains', { project_id: project.id }], ['events', { project_id: project.id }], ['ledger', { mailbox_id: alice.id }], ['skips', { mailbox_id: alice.id }]] as const) {
    assert.equal(await count(table, where), 0, table);
  }
  const audit = await land.app.db('audit').where({ action: 'project.remove', target: 'removing' }).first();
  assert.equal(audit.actor, ACTOR);
  assert.match(audit.detail, /2 mailbox\(es\)/);
});

test('sync now makes a mailbox between delta passes due at once, and only those', async () => {
  const project = await createProject(land.app, { name: 'syncing', source: 'old', destination: 'new', actor: ACTOR });
  await addMailboxes(land.app, project.id, [{ line: 1, address: 'alice@example.test' }, { line: 2, address: 'bob@example.test' }], ACTOR);
  const later = Date.now() + 3_600_000;
  await land.app.db('mailboxes').where({ project_id: project.id, address: 'alice@example.test' }).update({ step: 'delta-sync', state: 'waiting', next_run_at: later });
  await land.app.db('mailboxes').where({ project_id: project.id, address: 'bob@example.test' }).update({ step: 'dns-cutover', state: 'waiting', next_run_at: later });
  const { projectAction } = await import('../../server/services/actions.ts');
  assert.deepEqual(await projectAction(land.app, project.id, 'sync', undefined, ACTOR), { done: 1, skipped: 1 });
  const rows = Object.fromEntries((await land.app.db('mailboxes').where({ project_id: project.id }).select('address', 'state', 'next_run_at')).map((r) => [r.address, [r.state, Number(r.next_run_at)]]));
  assert.deepEqual(rows['alice@example.test'], ['waiting', 0]);
  assert.deepEqual(rows['bob@example.test'], ['waiting', later]);
  await stopProject(land.app, project.id, ACTOR);
  await removeProject(land.app, project.id, ACTOR);
});

test('a one-click migration is one transaction, and refuses accounts another active project migrates', async () => {
  const first = await createDomainMigration(land.app, { from: 'old', to: 'new', domain: 'example.test', name: 'one-click', options: { startMode: 'manual' }, actor: ACTOR });
  assert.deepEqual(first.mailboxes, ['alice@example.test', 'bob@example.test', 'carol@example.test']);
  assert.deepEqual(await land.app.db('mailboxes').where({ project_id: first.projectId }).distinct().pluck('state'), ['paused']);
  await refused(createDomainMigration(land.app, { from: 'old', to: 'new', domain: 'example.test', name: 'twice', actor: ACTOR }), 'INPUT_INVALID', /already being migrated.*alice@example\.test \(project one-click/);
  assert.equal(await count('projects', { name: 'twice' }), 0, 'the refused project was rolled back with its mailboxes');
  await refused(createDomainMigration(land.app, { from: 'nomaster', to: 'new', domain: 'other.test', name: 'no-passwords', actor: ACTOR }), 'INPUT_INVALID', /no master user/);
  await removeProject(land.app, first.projectId, ACTOR);
});
