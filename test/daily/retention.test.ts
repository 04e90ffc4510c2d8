import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { openContext, type AppContext } from '../../server/context.ts';
import { projectFilesDir, purgeExpired } from '../../server/daily/retention.ts';
import { uploadWhole } from '../../server/files/uploads.ts';
import { mailboxReportModel, projectReportModel } from '../../server/web/models/report.ts';
import { projectPageModel } from '../../server/web/models/project-page.ts';
import { cutover, tempDataDir } from '../support/cli.ts';
import { DOMAIN, NEW_MX, OLD_MX, startLandscape, switchDnsToNew, writePlatformConfig, type Landscape } from '../support/platforms.ts';

let land: Landscape;
let dataDir: string;
let app: AppContext;

/** Every file under the data directory that holds one of the needles, with the needle. */
function filesHolding(dir: string, needles: string[]): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d)) {
      const file = path.join(d, entry);
      if (statSync(file).isDirectory()) { walk(file); continue; }
      const bytes = readFileSync(file);
      for (const needle of needles) if (bytes.includes(Buffer.from(needle))) found.push(`${path.relative(dir, file)}: ${needle.slice(0, 24)}…`);
    }
  };
  walk(dir);
  return found;
}

before(async () => {
  land = await startLandscape({ accounts: [{ address: `alice@${DOMAIN}`, password: 'alice-pw' }, { address: `bob@${DOMAIN}`, password: 'bob-pw' }] });
  await switchDnsToNew(land.dns);
  dataDir = tempDataDir();
  for (const [name, inst, mx] of [['old', land.old, OLD_MX], ['new', land.new, NEW_MX]] as const) {
    const added = await cutover(['platform', 'add', name, '--plugin', 'postfixadmin', '--config', writePlatformConfig(inst, dataDir, name, mx)], { dataDir });
    assert.equal(added.code, 0, added.stderr);
  }
  const { seed } = await import('../support/mail.ts');
  const { rawMessage } = await import('../support/mail.ts');
  for (const who of ['alice', 'bob']) await seed(land.old, `${who}@${DOMAIN}`, Array.from({ length: 5 }, (_, i) => ({ folder: 'INBOX', raw: rawMessage({ subject: `${who} ${i}` }) })));
  const migrated = await cutover(['migrate', '--from', 'old', '--to', 'new', '--domain', DOMAIN, '--overlap', '0', '--nameserver', `127.0.0.1:${land.dns.port}`, '--name', 'kept', '--wait'], { dataDir });
  assert.equal(migrated.code, 0, migrated.stderr + migrated.stdout);
  app = await openContext({ CUTOVER_DATA_DIR: dataDir, CUTOVER_LOG_LEVEL: 'silent' });
});
after(async () => { await app?.close(); await land?.stop(); });

test('after the retention period, no password, login or per-message data is left in the database or in files under the data directory', async () => {
  const project = await app.db('projects').where({ name: 'kept' }).first();
  const mailboxes = await app.db('mailboxes').where({ project_id: project.id });
  assert.deepEqual(mailboxes.map((m) => m.state), ['done', 'done']);
  const sealed = mailboxes.flatMap((m) => [m.source_password_sealed, m.dest_password_sealed, m.source_login_sealed, m.dest_login_sealed]).filter(Boolean) as string[];
  assert.ok(sealed.length >= 2, 'the migration stored the generated passwords');
  const passwords = mailboxes.filter((m) => m.dest_password_sealed).map((m) => app.box.open(m.dest_password_sealed));
  const ledger = await app.db('ledger').whereIn('mailbox_id', mailboxes.map((m) => m.id));
  assert.equal(ledger.length, 10);
  const fingerprints = ledger.map((r) => r.fingerprint as string);
  // A sealed import file of the project, where file uploads keep them.
  const files = projectFilesDir(dataDir, project.id);
  mkdirSync(files, { recursive: true });
  writeFileSync(path.join(files, 'upload.sealed'), 'sealed-import-file-bytes');
  // A file uploaded for a file import on the mailbox page.
  const uploaded = await uploadWhole(app, mailboxes[0].id, 'old-mail.mbox', Readable.from([Buffer.from('From a@b Thu Jan  1 00:00:00 2026\nSubject: uploaded-mbox-bytes\n\nhi\n')]), 'admin');
  const needles = [...sealed, ...fingerprints, 'sealed-import-file-bytes', 'uploaded-mbox-bytes'];
  assert.ok(filesHolding(dataDir, needles).length > 0, 'before the purge the scan finds them (the scan works)');

  // Not yet: the project ended just now and keeps its data 60 days.
  assert.deepEqual(await purgeExpired(app), []);
  assert.equal(await app.db('ledger').count({ n: '*' }).first().then((r) => Number(r?.n)), 10);
  const ended = (await app.db('projects').where({ id: project.id }).first()).ended_at;
  assert.ok(ended, 'the job recorded when the project ended');
  // 61 days later.
  const purged = await purgeExpired(app, Date.parse(ended) + 61 * 86_400_000);
  assert.equal(purged.length, 1);
  assert.deepEqual({ ledger: purged[0]!.ledgerRows, mailboxes: purged[0]!.mailboxes, uploads: purged[0]!.uploads }, { ledger: 10, mailboxes: 2, uploads: 1 });
  assert.equal(await app.db('file_uploads').where({ id: uploaded.id }).first(), undefined, 'the upload row is gone');

  const left = filesHolding(dataDir, [...needles, ...passwords]);
  assert.deepEqual(left, [], 'nothing purged can be read back from any file under the data directory');
  for (const m of await app.db('mailboxes').where({ project_id: project.id })) {
    assert.deepEqual([m.source_password_sealed, m.dest_password_sealed, m.source_login_sealed, m.dest_login_sealed], [null, null, null, null]);
    assert.equal(JSON.parse(m.purged_tally).copiedMessages, 5, 'the counts stay');
  }
  // The project page and the reports still say what moved.
  const page = await projectPageModel(app, project.id, { pageSize: 50 });
  assert.deepEqual(page.mailboxes.map((m) => m.progress.copied), [5, 5]);
  const report = await projectReportModel(app, project.id);
  assert.equal(report.totals.copiedMessages, 10);
  const alice = await app.db('mailboxes').where({ project_id: project.id, address: `alice@${DOMAIN}` }).first();
  const folders = (await mailboxReportModel(app, alice.id)).folders;
  assert.equal(folders.find((f) => f.source === 'INBOX')?.copiedMessages, 5);
  for (const table of ['ledger', 'skips', 'checkpoints', 'groupware_items', 'import_rows']) {
    assert.equal(await app.db(table).count({ n: '*' }).first().then((r) => Number(r?.n)), 0, table);
  }
  assert.ok(await app.db('events').where({ project_id: project.id, outcome: 'completed' }).first() || await app.db('events').where({ project_id: project.id }).first(), 'the timeline stays');
  const audit = await app.db('audit').where({ action: 'project.purge', target: 'kept' }).first();
  assert.match(audit.detail, /^retention period over: 2 mailbox\(es\), \d+ stored password\(s\)\/login\(s\), 10 ledger row\(s\)/);
  assert.deepEqual(await purgeExpired(app, Date.now() + 400 * 86_400_000), [], 'purged once');
});
