import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { csvCell, reportFileName, toCsv } from '../../server/web/models/report-csv.ts';
import { insertMailbox, insertProject } from '../db/fixtures.ts';
import { Client, startPanel } from './client.ts';

let panel: Awaited<ReturnType<typeof startPanel>>;
let client: Client;
let projectId: number;
let alice: number;
let bob: number;

const GENERATED = 'Gen3rated-Passw0rd-Zq';
const SOURCE = 'source-secret-Xy';
const PROJECT = 'Q3 "move" /x';

before(async () => {
  panel = await startPanel();
  const db = panel.app.db;
  const where = await insertProject(db);
  projectId = where.projectId;
  await db('projects').where({ id: projectId }).update({ name: PROJECT });
  const plan = [
    { source: 'INBOX', dest: 'INBOX', subscribed: true, selectable: true, excluded: false },
    { source: '=SUM(A1)', dest: 'Formulas', subscribed: true, selectable: true, excluded: false },
    { source: 'Junk', dest: 'Spam', subscribed: true, selectable: true, excluded: true },
  ];
  const verify = {
    clean: false,
    folders: [
      { source: 'INBOX', dest: 'INBOX', sourceMessages: 5, copied: 3, copiedBytes: 600, skipped: 1, skippedBytes: 5000, notCopied: [], missingOnDest: [42] },
      { source: '=SUM(A1)', dest: 'Formulas', sourceMessages: 2, copied: 1, copiedBytes: 50, skipped: 1, skippedBytes: 70, notCopied: [], missingOnDest: [] },
    ],
  };
  alice = await insertMailbox(db, where, 'alice@example.test', {
    state: 'done', step: 'finalize', temp_address: 'alice01@example.test', folder_plan: JSON.stringify(plan), verify_result: JSON.stringify(verify),
    dest_password_generated: true, dest_password_reported: false, dest_password_sealed: panel.app.box.seal(GENERATED), source_password_sealed: panel.app.box.seal(SOURCE),
    last_sync_at: '2024-11-02T10:00:00.000Z',
  });
  bob = await insertMailbox(db, where, 'bob@example.test', { state: 'failed', step: 'copy-mail', error_code: 'AUTH_FAILED', error_message: 'Login refused by imap.old: wrong user name or password.' });
  const ledger = (folder: string, uid: number, size: number) => ({ mailbox_id: alice, source_folder: folder, uidvalidity: 1, uid, dest_folder: folder, dest_uid: uid, size, fingerprint: `f${folder}${uid}`, pass: 1 });
  await db('ledger').insert([ledger('INBOX', 1, 100), ledger('INBOX', 2, 200), ledger('INBOX', 3, 300), ledger('=SUM(A1)', 1, 50)]);
  await db('skips').insert([
    { mailbox_id: alice, source_folder: 'INBOX', uidvalidity: 1, uid: 4, size: 5000, kind: 'too-large', reason: 'larger than the 4 KB limit, "as configured"' },
    { mailbox_id: alice, source_folder: 'INBOX', uidvalidity: 1, uid: 5, size: 80, kind: 'refused', reason: 'NO [LIMIT] message refused,\r\ntoo many headers' },
    { mailbox_id: alice, source_folder: '=SUM(A1)', uidvalidity: 1, uid: 2, size: 70, kind: 'too-large', reason: '@cmd|calc' },
  ]);
  client = new Client(panel.url);
  assert.equal((await client.login()).status, 303);
});
after(async () => { await panel?.close(); });

function assertNoSecret(text: string, where: string) {
  for (const secret of [GENERATED, SOURCE, 'v1:']) assert.ok(!text.includes(secret), `${where} shows no stored password (${secret})`);
}

test('CSV cells: quoting per RFC 4180 and no spreadsheet formulas', () => {
  assert.equal(csvCell('plain'), 'plain');
  assert.equal(csvCell('a,b'), '"a,b"');
  assert.equal(csvCell('say "hi"'), '"say ""hi"""');
  assert.equal(csvCell('two\nlines'), '"two\nlines"');
  for (const start of ['=', '+', '-', '@', '\t', '\r']) assert.ok(csvCell(`${start}1+1`).replace(/^"/, '').startsWith(`'${start}`), JSON.stringify(start));
  assert.equal(csvCell('=HYPERLINK("http://x")'), '"\'=HYPERLINK(""http://x"")"');
  assert.equal(csvCell(-5), '-5', 'numbers are ours: written as they are');
  // OWASP: every formula start, also behind leading white space and in full-width form, is prefixed and quoted.
  for (const start of ['=', '+', '-', '@', '\t', '\r', '\uFF1D', '\uFF0B', '\uFF0D', '\uFF20']) {
    for (const lead of ['', ' ', '  ', '\u3000', '\u00A0', '\n']) {
      const value = `${lead}${start}1+cmd|' /C calc'!A0`;
      assert.equal(csvCell(value), `"'${value.replace(/"/g, '""')}"`, JSON.stringify(value));
    }
  }
  assert.equal(csvCell('a = b'), 'a = b', 'a formula character inside the text is harmless');
  assert.equal(csvCell(' plain'), ' plain');
  assert.equal(csvCell(null), '');
  assert.equal(toCsv(['a', 'b'], [[1, 'x']]), '\uFEFFa,b\r\n1,x\r\n');
  assert.equal(reportFileName('Q3 "move" /x', '2024-11-02T10:00:00Z', 'csv'), 'cutover-report-Q3-move-x-2024-11-02.csv');
  assert.equal(reportFileName('Évolution été', '2024-11-02T10:00:00Z', 'json'), 'cutover-report-Evolution-ete-2024-11-02.json');
  assert.equal(reportFileName('../../"\r\n', '2024-11-02', 'csv'), 'cutover-report-report-2024-11-02.csv');
});

test('the project page and the mailbox page link their reports', async () => {
  assert.match((await client.request(`/projects/${projectId}`)).text, new RegExp(`href="/panel/projects/${projectId}/report"`));
  assert.match((await client.request(`/mailboxes/${alice}`)).text, new RegExp(`href="/panel/mailboxes/${alice}/report"`));
});

test('the project report: every mailbox with what moved, the verify result, the accounts, never a password', async () => {
  const res = await client.request(`/projects/${projectId}/report`);
  assert.equal(res.status, 200);
  assert.match(res.text, /Report of project Q3 &quot;move&quot; \/x/);
  assert.match(res.text, /alice01@example\.test/);
  assert.match(res.text, new RegExp(`<tr data-id="${alice}"><td><a href="/panel/mailboxes/${alice}/report">alice@example\\.test</a>`));
  assert.match(res.text, /1 message\(s\) unaccounted for/);
  assert.match(res.text, /\[AUTH_FAILED\] Login refused/);
  assert.match(res.text, /<td>2<\/td><td>4<\/td><td>650 B<\/td><td>2<\/td><td>5\.1 KB<\/td><td>1<\/td>/, 'totals: 2 mailboxes, 4 copied (650 B), 2 skipped (5.07 KB), 1 refused');
  assertNoSecret(res.text, 'the report page');
  const row = await panel.app.db('mailboxes').where({ id: alice }).first();
  assert.ok(!row.dest_password_reported, 'the report does not use up the one-time password display');
});

test('project CSV and JSON downloads: attachments with a safe name, the same numbers, escaped cells', async () => {
  const csv = await client.request(`/projects/${projectId}/report.csv`);
  assert.equal(csv.status, 200);
  assert.match(csv.headers.get('content-type')!, /^text\/csv; charset=utf-8/);
  assert.match(csv.headers.get('content-disposition')!, /^attachment; filename="cutover-report-Q3-move-x-\d{4}-\d{2}-\d{2}\.csv"$/);
  assertNoSecret(csv.text, 'the CSV');
  const records: Record<string, string>[] = parse(csv.text, { bom: true, columns: true });
  assert.equal(records.length, 2);
  const a = records.find((r) => r.new_account === 'alice@example.test')!;
  assert.deepEqual([a.old_account, a.state, a.copied_messages, a.copied_bytes, a.skipped_messages, a.skipped_bytes, a.refused_messages, a.verify], ['alice01@example.test', 'done', '4', '650', '2', '5070', '1', '1 unaccounted']);
  assert.equal(records.find((r) => r.new_account === 'bob@example.test')!.error_code, 'AUTH_FAILED');

  const json = await client.request(`/projects/${projectId}/report.json`);
  assert.match(json.headers.get('content-disposition')!, /^attachment; filename="cutover-report-Q3-move-x-[\d-]+\.json"$/);
  assertNoSecret(json.text, 'the JSON');
  const model = JSON.parse(json.text);
  assert.deepEqual(model.totals, { mailboxes: 2, copiedMessages: 4, copiedBytes: 650, skippedMessages: 2, skippedBytes: 5070, refusedMessages: 1 });
  assert.deepEqual(model.counts, { done: 1, failed: 1 });
  assert.equal(model.project.name, PROJECT);
  assert.deepEqual(model.mailboxes.find((m: { id: number }) => m.id === alice).verify, { clean: false, unaccounted: 1 });
});

test('the mailbox report: per folder messages and bytes, each skip with the server reason; downloads escape formulas', async () => {
  const page = await client.request(`/mailboxes/${alice}/report`);
  assert.equal(page.status, 200);
  assert.match(page.text, /<td>INBOX<\/td><td>INBOX<\/td><td>3<\/td><td>600 B<\/td><td>1<\/td><td>5\.0 KB<\/td><td>1<\/td><td>5<\/td><td>1<\/td>/);
  assert.match(page.text, /<tr class="muted"><td>Junk<\/td><td>—<\/td>/, 'an excluded folder says so');
  assert.match(page.text, /NO \[LIMIT\] message refused,/);
  assert.match(page.text, /larger than the 4 KB limit, &quot;as configured&quot;/);
  assert.match(page.text, /id="verify">1 message\(s\) unaccounted for</);
  assertNoSecret(page.text, 'the mailbox report page');

  const csv = await client.request(`/mailboxes/${alice}/report.csv`);
  assert.match(csv.headers.get('content-disposition')!, /^attachment; filename="cutover-report-alice@example\.test-[\d-]+\.csv"$/);
  assertNoSecret(csv.text, 'the mailbox CSV');
  const records: Record<string, string>[] = parse(csv.text, { bom: true, columns: true });
  const folders = records.filter((r) => r.record === 'folder');
  assert.deepEqual(folders.map((f) => f.source_folder), ['INBOX', "'=SUM(A1)", 'Junk']);
  assert.equal(folders[2]!.dest_folder, '(excluded)');
  const skips = records.filter((r) => r.record === 'skipped');
  assert.equal(skips.length, 3);
  assert.equal(skips.find((s) => s.uid === '5')!.reason, 'NO [LIMIT] message refused,\r\ntoo many headers');
  assert.equal(skips.find((s) => s.source_folder === "'=SUM(A1)")!.reason, "'@cmd|calc", 'a formula-looking reason is defused');
  assert.ok(!/(^|,)[=+@-][^,]*/m.test(csv.text.replace(/"[^"]*"/g, '')), 'no unquoted cell starts like a formula');

  const json = JSON.parse((await client.request(`/mailboxes/${alice}/report.json`)).text);
  assert.equal(json.mailbox.newAccount, 'alice@example.test');
  assert.equal(json.mailbox.oldAccount, 'alice01@example.test');
  assert.equal(json.folders.find((f: { source: string }) => f.source === '=SUM(A1)').source, '=SUM(A1)', 'JSON keeps the raw value');
  assert.equal(json.skipsTotal, 3);
});

test('the same reports under /api for scripts, 404 for unknown ones, and nothing without a login', async () => {
  const project = await client.request(`/api/projects/${projectId}/report`);
  assert.equal(project.status, 200);
  assert.match(project.headers.get('content-type')!, /application\/json/);
  assert.equal(project.headers.get('content-disposition'), null);
  assert.equal(JSON.parse(project.text).mailboxes.length, 2);
  const mailbox = JSON.parse((await client.request(`/api/mailboxes/${bob}/report`)).text);
  assert.deepEqual(mailbox.mailbox.error, { code: 'AUTH_FAILED', message: 'Login refused by imap.old: wrong user name or password.' });
  assert.equal(mailbox.folders.length, 0);
  assertNoSecret(project.text, 'the API');
  assert.equal((await client.request('/api/projects/999999/report')).status, 404);
  assert.equal((await client.request('/api/mailboxes/999999/report')).status, 404);
  assert.equal((await client.request('/projects/abc/report.csv')).status, 404);
  const anon = new Client(panel.url);
  assert.equal((await anon.request(`/api/projects/${projectId}/report`)).status, 401);
  assert.equal((await anon.request(`/projects/${projectId}/report.csv`)).status, 303);
});
