import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { openContext, type AppContext } from '../../server/context.ts';
import { loadConfig } from '../../server/config.ts';
import { DIGEST_INTERVAL_MS, notifyTick } from '../../server/notify/notifier.ts';
import { runWorker } from '../../server/workflow/runner.ts';
import { insertMailbox, insertProject } from '../db/fixtures.ts';
import { tempDataDir } from '../support/cli.ts';
import { startSmtpSink } from './smtp-sink.ts';

const PANEL = 'https://panel.example.test/cutover';
const RECIPIENTS = ['ops@example.test', 'lead@example.test'];

let sink: Awaited<ReturnType<typeof startSmtpSink>>;
let app: AppContext;

before(async () => {
  sink = await startSmtpSink();
  app = await openContext({
    CUTOVER_DATA_DIR: tempDataDir(), CUTOVER_LOG_LEVEL: 'silent',
    CUTOVER_SMTP_URL: `smtp://127.0.0.1:${sink.port}`, CUTOVER_SMTP_FROM: 'cutover@panel.example.test', CUTOVER_PANEL_URL: `${PANEL}/`,
  });
});
after(async () => { await app?.close(); await sink?.close(); });

async function project(notify: string[] = RECIPIENTS): Promise<{ projectId: number; domainId: number; name: string }> {
  const where = await insertProject(app.db);
  await app.db('projects').where({ id: where.projectId }).update({ options: JSON.stringify({ notify }) });
  const { name } = await app.db('projects').where({ id: where.projectId }).first('name');
  return { ...where, name };
}

const set = (id: number, patch: Record<string, unknown>) => app.db('mailboxes').where({ id }).update(patch);
const rows = (projectId: number) => app.db('notifications').where({ project_id: projectId }).orderBy('id');

test('started, needs an admin, failed, completed: one mail each, to the project recipients, with the link, never twice', async () => {
  const p = await project();
  const a = await insertMailbox(app.db, p, 'alice@example.test', { step: 'preflight' });
  const b = await insertMailbox(app.db, p, 'bob@example.test', { step: 'preflight' });
  const seen = sink.received.length;
  const mails = () => sink.received.slice(seen);

  await notifyTick(app);
  assert.equal(mails().length, 0, 'nothing happened yet: no mail');

  await set(a, { step: 'attach-domain', state: 'queued' });
  await notifyTick(app);
  assert.equal(mails().length, 1);
  const started = mails()[0]!;
  assert.deepEqual(started.to.sort(), [...RECIPIENTS].sort());
  assert.equal(started.from, 'cutover@panel.example.test');
  assert.match(started.subject, new RegExp(`^\\[cutover\\] Project ${p.name} started / Projet ${p.name} démarré$`));
  assert.match(started.text, new RegExp(`Open: ${PANEL}/projects/${p.projectId}\\r?\\n`));
  assert.match(started.text, /has started: 2 mailbox\(es\)/);
  assert.match(started.text, /La migration du projet/);
  assert.match(started.headers, /^auto-submitted: auto-generated/im);

  await notifyTick(app);
  assert.equal(mails().length, 1, 'a second tick sends nothing again');

  // A mailbox step and a domain step (shared by the domain's mailboxes) both wait for an admin: one digest.
  await set(a, { step: 'rename-source', state: 'needs_admin', manual_instructions: 'On the source platform, rename alice@example.test to alice01@example.test, then confirm.' });
  await set(b, { step: 'attach-domain', state: 'needs_admin' });
  await app.db('domain_steps').insert({ domain_id: p.domainId, step: 'attach-domain', status: 'waiting', detail: 'Add the domain as non-authoritative.' });
  await notifyTick(app);
  assert.equal(mails().length, 2);
  const digest = mails()[1]!;
  assert.match(digest.subject, /Project .* 2 item\(s\) need an admin/);
  assert.match(digest.text, /alice@example\.test, step rename-source: On the source platform, rename alice@example\.test/);
  assert.match(digest.text, new RegExp(`${PANEL}/mailboxes/${a}\\r?\\n`));
  assert.match(digest.text, /Domain d\d+\.example\.test \(1 mailbox\(es\)\), step attach-domain: Add the domain as non-authoritative\./);
  assert.match(digest.text, new RegExp(`${PANEL}/projects/${p.projectId}\\?state=needs_admin`));
  await notifyTick(app);
  assert.equal(mails().length, 2, 'still waiting for an admin is not news');

  // Another one within the digest window waits for the next digest instead of a mail of its own.
  const c = await insertMailbox(app.db, p, 'carol@example.test', { step: 'create-destination', state: 'needs_admin', manual_instructions: 'Create carol@example.test.' });
  const now = Date.now();
  await notifyTick(app, now);
  assert.equal(mails().length, 2, 'held for the digest window');
  await notifyTick(app, now + DIGEST_INTERVAL_MS + 1000);
  assert.equal(mails().length, 3);
  assert.match(mails()[2]!.text, /carol@example\.test, step create-destination: Create carol@example\.test\./);
  assert.match(mails()[2]!.subject, /1 item\(s\) need an admin/);

  // Failed: something failed and nothing can move on by itself.
  await set(a, { state: 'failed', error_code: 'AUTH_FAILED', error_message: 'Login refused by imap.old: wrong user name or password.' });
  await set(b, { state: 'queued', step: 'copy-mail' });
  await set(c, { state: 'paused' });
  await notifyTick(app, now + 2 * DIGEST_INTERVAL_MS);
  assert.equal(mails().length, 3, 'bob is still queued: the project is not at a standstill');
  await set(b, { state: 'stopped' });
  await notifyTick(app, now + 2 * DIGEST_INTERVAL_MS);
  assert.equal(mails().length, 4);
  const failed = mails()[3]!;
  assert.match(failed.subject, /Project .* stopped: 1 mailbox\(es\) failed/);
  assert.match(failed.text, /alice@example\.test \(step rename-source\): \[AUTH_FAILED\] Login refused by imap\.old/);
  assert.match(failed.text, new RegExp(`${PANEL}/mailboxes/${a}`));
  await notifyTick(app, now + 2 * DIGEST_INTERVAL_MS);
  assert.equal(mails().length, 4, 'the same standstill is mailed once');

  // Completed: every mailbox done; the mail links the report.
  await app.db('mailboxes').where({ project_id: p.projectId }).update({ state: 'done', step: 'finalize' });
  await notifyTick(app, now + 2 * DIGEST_INTERVAL_MS);
  assert.equal(mails().length, 5);
  assert.match(mails()[4]!.subject, /Project .* completed/);
  assert.match(mails()[4]!.text, new RegExp(`Report: ${PANEL}/projects/${p.projectId}/report`));
  await notifyTick(app, now + 3 * DIGEST_INTERVAL_MS);
  assert.equal(mails().length, 5);

  const recorded = await rows(p.projectId);
  assert.deepEqual(recorded.map((r) => r.kind), ['project-started', 'mailbox-needs-admin', 'domain-needs-admin', 'mailbox-needs-admin', 'project-failed', 'project-completed']);
  assert.ok(recorded.every((r) => r.status === 'sent' && r.sent_at));
});

test('an SMTP failure is recorded on the row and retried later with backoff, without a duplicate', async () => {
  const p = await project(['ops@example.test']);
  // Paused: already started, and the worker run of a later test leaves it alone.
  await insertMailbox(app.db, p, 'dave@example.test', { step: 'copy-mail', state: 'paused' });
  const seen = sink.received.length;
  sink.refuse = true;
  const now = Date.now();
  try {
    await notifyTick(app, now);
  } finally {
    sink.refuse = false;
  }
  assert.equal(sink.received.length, seen);
  const [row] = await rows(p.projectId);
  assert.equal(row.status, 'pending');
  assert.equal(row.attempts, 1);
  assert.match(row.last_error, /451|try again later/);
  assert.ok(Number(row.next_attempt_at) > now, 'the next attempt is later');

  await notifyTick(app, now);
  assert.equal((await rows(p.projectId))[0].attempts, 1, 'not due yet: no new attempt');
  assert.equal(sink.received.length, seen);

  await notifyTick(app, Number(row.next_attempt_at) + 1);
  assert.equal(sink.received.length, seen + 1);
  assert.match(sink.received[seen]!.subject, /started/);
  const [sent] = await rows(p.projectId);
  assert.equal(sent.status, 'sent');
  assert.equal(sent.last_error, null);
  await notifyTick(app, Number(row.next_attempt_at) + 60_000);
  assert.equal(sink.received.length, seen + 1);
});

test('a project without recipients gets no mail, and the worker loop sends what is due when it stops', async () => {
  const quiet = await project([]);
  await insertMailbox(app.db, quiet, 'erin@example.test', { state: 'done', step: 'finalize' });
  const p = await project(['ops@example.test']);
  await insertMailbox(app.db, p, 'frank@example.test', { state: 'done', step: 'finalize' });
  const seen = sink.received.length;
  // Nothing is due, so the loop returns at once; its notifier's last pass still runs.
  await runWorker(app, { untilIdle: true });
  assert.deepEqual(sink.received.slice(seen).map((m) => m.subject.replace(/ \/ .*/, '')), [`[cutover] Project ${p.name} started`, `[cutover] Project ${p.name} completed`]);
  assert.equal((await rows(quiet.projectId)).length, 0);
});

test('without an SMTP server nothing is sent, and what would have been is recorded as skipped', async () => {
  const bare = await openContext({ CUTOVER_DATA_DIR: tempDataDir(), CUTOVER_LOG_LEVEL: 'silent' });
  try {
    const where = await insertProject(bare.db);
    await bare.db('projects').where({ id: where.projectId }).update({ options: JSON.stringify({ notify: ['ops@example.test'] }) });
    await insertMailbox(bare.db, where, 'gina@example.test', { state: 'done', step: 'finalize' });
    const seen = sink.received.length;
    assert.deepEqual(await notifyTick(bare), { recorded: 2, sent: 0 });
    const recorded = await bare.db('notifications').where({ project_id: where.projectId });
    assert.deepEqual(recorded.map((r) => r.status), ['skipped', 'skipped']);
    assert.match(recorded[0].last_error, /no SMTP server configured/);
    assert.equal(sink.received.length, seen);
  } finally {
    await bare.close();
  }
});

test('SMTP credentials: the password comes from a file or the environment, never from the URL, and never shows in the config', async () => {
  const dir = tempDataDir();
  const passwordFile = path.join(dir, 'smtp.pass');
  writeFileSync(passwordFile, 'smtp-secret-42\n', { mode: 0o600 });
  const authSink = await startSmtpSink({ users: { mailer: 'smtp-secret-42' } });
  const authed = await openContext({ CUTOVER_DATA_DIR: dir, CUTOVER_LOG_LEVEL: 'silent', CUTOVER_SMTP_URL: `smtp://mailer@127.0.0.1:${authSink.port}`, CUTOVER_SMTP_PASSWORD_FILE: passwordFile });
  try {
    assert.doesNotMatch(JSON.stringify(authed.config), /smtp-secret-42/);
    assert.equal(authed.config.smtp!.requireTls, false, 'a loopback relay may take AUTH without TLS');
    const where = await insertProject(authed.db);
    await authed.db('projects').where({ id: where.projectId }).update({ options: JSON.stringify({ notify: ['ops@example.test'] }) });
    await insertMailbox(authed.db, where, 'hank@example.test', { step: 'copy-mail' });
    assert.equal((await notifyTick(authed)).sent, 1);
    assert.equal(authSink.received[0]!.user, 'mailer');
  } finally {
    await authed.close();
    await authSink.close();
  }
  const env = { CUTOVER_DATA_DIR: dir };
  assert.throws(() => loadConfig({ ...env, CUTOVER_SMTP_URL: 'smtp://mailer:pw@smtp.example.net' }), /must not contain a password/);
  assert.throws(() => loadConfig({ ...env, CUTOVER_SMTP_URL: 'http://smtp.example.net' }), /smtp:\/\/ or smtps:\/\//);
  assert.throws(() => loadConfig({ ...env, CUTOVER_SMTP_URL: 'smtp://smtp.example.net', CUTOVER_SMTP_PASSWORD: 'x' }), /names no user/);
  const remote = loadConfig({ ...env, CUTOVER_SMTP_URL: 'smtp://mailer@smtp.example.net', CUTOVER_SMTP_PASSWORD: 'x' });
  assert.equal(remote.smtp!.requireTls, true, 'a password to a remote server only travels over TLS');
  assert.equal(remote.smtp!.port, 587);
  assert.equal(remote.smtp!.tlsVerify, true);
  assert.equal(loadConfig({ ...env, CUTOVER_SMTP_URL: 'smtps://smtp.example.net' }).smtp!.port, 465);
  assert.equal(loadConfig(env).panelUrl, 'http://127.0.0.1:8080');
});
