// A "file import" project: its source platform is no server (plugin files). The workflow creates
// the destination account, waits for the mailbox's files, goes on by itself once an import ends,
// and verifies from what the import counted (a real Dovecot behind a postfixadmin platform).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { openContext, type AppContext } from '../../server/context.ts';
import type { MailboxRow } from '../../server/db/repos/mailboxes.ts';
import { insertPlatform } from '../../server/db/repos/platforms.ts';
import { addDomain, startDovecot, type DovecotInstance } from '../../server/devservers/dovecot.ts';
import { settled, startFileRun, uploadWhole } from '../../server/files/uploads.ts';
import { confirmDomainStep } from '../../server/services/actions.ts';
import { addMailboxes } from '../../server/services/project-mailboxes.ts';
import { createProject } from '../../server/services/projects.ts';
import { runMailboxStep } from '../../server/workflow/runner.ts';
import { tempDataDir } from '../support/cli.ts';
import { testDatabaseEnv } from '../support/database.ts';
import { snapshot } from '../support/mail.ts';
import { DOMAIN, NEW_MX, writePlatformConfig } from '../support/platforms.ts';

const ALICE = `alice@${DOMAIN}`;
const BOB = `bob@${DOMAIN}`;
let dovecot: DovecotInstance;
let app: AppContext;
let projectId: number;

const mailbox = async (address: string) => await app.db<MailboxRow>('mailboxes').where({ project_id: projectId, address }).first() as MailboxRow;

async function runUntil(address: string, stop: (row: MailboxRow) => boolean): Promise<MailboxRow> {
  for (let i = 0; i < 20; i++) {
    const row = await mailbox(address);
    if (stop(row)) return row;
    if (row.state === 'failed') throw new Error(`${address} failed at ${row.step}: ${row.error_message}`);
    await runMailboxStep(app, row.id, 'test-worker');
  }
  throw new Error(`${address} did not get there: ${JSON.stringify(await mailbox(address))}`);
}

async function timeline(address: string): Promise<Array<{ step: string; message: string }>> {
  const row = await mailbox(address);
  return app.db('events').where({ mailbox_id: row.id }).orderBy('id').select('step', 'message');
}

before(async () => {
  dovecot = await startDovecot();
  await addDomain(dovecot, DOMAIN);
  const dataDir = tempDataDir();
  app = await openContext({ CUTOVER_DATA_DIR: dataDir, CUTOVER_LOG_LEVEL: 'silent', ...(await testDatabaseEnv()) });
  await insertPlatform(app.db, app.box, 'new', 'postfixadmin', app.plugins.parseConfig('postfixadmin', JSON.parse(readFileSync(writePlatformConfig(dovecot, dataDir, 'new', NEW_MX), 'utf8'))));
  await insertPlatform(app.db, app.box, 'exports', 'files', app.plugins.parseConfig('files', {}));
  projectId = (await createProject(app, { name: 'from files', source: 'exports', destination: 'new', options: { overlapSeconds: 0 }, actor: 'test' })).id;
  // No source password: there is no server to log in to.
  await addMailboxes(app, projectId, [{ line: 1, address: ALICE }, { line: 2, address: BOB }], 'test');
  const domain = await app.db('domains').where({ project_id: projectId }).first();
  await confirmDomainStep(app, projectId, domain.id, 'dns-cutover', 'test');
});

after(async () => {
  await app?.close();
  await dovecot?.stop();
});

test('a platform of files is a source only', async () => {
  await assert.rejects(createProject(app, { name: 'backwards', source: 'new', destination: 'exports', actor: 'test' }), (err: Error & { code?: string }) => err.code === 'INPUT_INVALID' && /can only be a source/.test(err.message));
  await assert.rejects(app.plugins.get('files').platform!({}, { log: app.log }).imapEndpoint('x@example.test'), (err: Error & { code?: string }) => err.code === 'PLATFORM_CANNOT');
});

test('the workflow waits for the files, goes on when an import ends, and verifies from its report', async () => {
  const waiting = await runUntil(ALICE, (row) => row.step === 'copy-mail' && row.state === 'waiting');
  assert.match(waiting.manual_instructions ?? '', /waiting for files: upload the PST, mbox/);
  assert.equal(waiting.source_password_sealed, null);
  const before = await timeline(ALICE);
  assert.match(before.find((e) => e.step === 'rename-source')?.message ?? '', /no old account to rename/);
  assert.match(before.find((e) => e.step === 'attach-domain')?.message ?? '', /skipped: the mail comes from uploaded files/);

  // Three messages, one of them with a line that mboxrd escaped.
  const mbox = [1, 2, 3].map((i) => `From sender${i}@example.test Mon Jan  2 10:0${i}:00 2023\nFrom: sender${i}@example.test\nSubject: file message ${i}\nMessage-ID: <f${i}@example.test>\n\nbody ${i}\n>From the escaped line ${i}\n\n`).join('');
  const upload = await uploadWhole(app, waiting.id, 'Archive.mbox', Readable.from([Buffer.from(mbox)]), 'test');
  await startFileRun(app, waiting.id, upload.id, 'import');
  await settled(upload.id);
  assert.equal(Number((await mailbox(ALICE)).next_run_at), 0, 'the ended import wakes the waiting step');

  const ended = await runUntil(ALICE, (row) => row.state === 'done');
  const events = await timeline(ALICE);
  assert.match(events.find((e) => e.step === 'copy-mail' && /imported/.test(e.message))?.message ?? '', /^3 of 3 messages \(.+\) imported from 1 file, 0 already there, 0 skipped, 0 failed/);
  assert.match(events.find((e) => e.step === 'verify')?.message ?? '', /^clean: 3 messages imported from files/);
  assert.match(events.find((e) => e.step === 'delta-sync')?.message ?? '', /^skipped: the mail comes from uploaded files/);
  const verified = JSON.parse(ended.verify_result!);
  assert.deepEqual(verified.folders.map((f: { source: string; copied: number }) => [f.source, f.copied]), [['Archive.mbox: Archive', 3]]);
  const dest = await snapshot(dovecot, ALICE);
  assert.deepEqual(dest.filter((f) => f.messages.length).map((f) => [f.path, f.messages.length]), [[verified.folders[0].dest, 3]]);
});

test('items the destination refused leave verify unclean, with their count', async () => {
  const row = await runUntil(BOB, (r) => r.step === 'copy-mail' && r.state === 'waiting');
  // What an import that the destination partly refused records (the refusal itself is tested in test/files).
  const folder = { file: 'old.pst', source: 'Inbox', dest: 'INBOX', messages: 5, bytes: 500, copied: 3, copiedBytes: 300, alreadyImported: 0, matched: 0, skipped: 0, skips: [], failed: 2, failures: [{ id: 'n1', reason: 'NO too big' }, { id: 'n2', reason: 'NO too big' }] };
  const report = { dryRun: false, files: [], folders: [folder], collections: [], messages: 5, copied: 3, bytes: 300, alreadyImported: 0, matched: 0, skipped: 0, failed: 2, davSkipped: 0, davFailed: 0, seconds: 1 };
  const now = new Date().toISOString();
  await app.db('file_uploads').insert({ mailbox_id: row.id, name: 'old.pst', size: 1, state: 'imported', report: JSON.stringify(report), created_by: 'test', created_at: now, updated_at: now });
  await app.db('mailboxes').where({ id: row.id }).update({ next_run_at: 0 });
  const verified = await runUntil(BOB, (r) => r.step !== 'copy-mail' && r.step !== 'copy-groupware' && r.step !== 'verify');
  const events = await timeline(BOB);
  assert.match(events.find((e) => e.step === 'copy-mail' && /imported/.test(e.message))?.message ?? '', /^3 of 5 messages .* 2 failed/);
  assert.match(events.find((e) => e.step === 'verify')?.message ?? '', /^2 items unaccounted for/);
  assert.equal(JSON.parse(verified.verify_result!).clean, false);
});
