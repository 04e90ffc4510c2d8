import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import ExcelJS from 'exceljs';
import knexFactory from 'knex';
import { CutoverError } from '../../server/errors.ts';
import { MAX_IMPORT_ROWS, parseMailboxFile } from '../../server/services/import-parse.ts';
import { csvTemplate, xlsxTemplate } from '../../server/services/import-template.ts';
import { commitImport, dryRunImport, importRows, pendingImport } from '../../server/services/import.ts';
import { removeProject, stopProject } from '../../server/services/project-lifecycle.ts';
import { addMailboxes } from '../../server/services/project-mailboxes.ts';
import { createProject } from '../../server/services/projects.ts';
import { startPanelLandscape, type PanelLandscape } from '../support/panel-platforms.ts';

let land: PanelLandscape;
const ACTOR = 'test:admin';

before(async () => {
  land = await startPanelLandscape({
    domains: {
      'example.test': ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'].map((local) => ({ address: `${local}@example.test`, password: `${local}-pw` })),
    },
  });
  // Frank's account is disabled on the source: worth a warning, not a refusal.
  const db = knexFactory({ client: 'sqlite3', connection: { filename: land.old.dbPath }, useNullAsDefault: true });
  await db('mailbox').where({ username: 'frank@example.test' }).update({ active: 0 });
  await db.destroy();
});
after(async () => { await land?.stop(); });

async function unreadable(data: Buffer | string, pattern: RegExp): Promise<void> {
  await assert.rejects(parseMailboxFile(Buffer.from(data)), (err: unknown) => err instanceof CutoverError && err.code === 'INPUT_INVALID' && pattern.test(err.message));
}

async function xlsx(rows: unknown[][]): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  const sheet = workbook.addWorksheet('any name');
  for (const row of rows) sheet.addRow(row);
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

test('CSV files are read the way admins write them', async () => {
  const rows = await parseMailboxFile(Buffer.from('\uFEFF Address ; Source Password;DEST-PASSWORD\r\n\r\n alice@example.test ; pw1 ;\r\n"bob@example.test";"a;b";New-1\r\n;;\r\n'));
  assert.deepEqual(rows, [
    { line: 3, address: 'alice@example.test', sourcePassword: 'pw1', destPassword: undefined },
    { line: 4, address: 'bob@example.test', sourcePassword: 'a;b', destPassword: 'New-1' },
  ]);
  assert.deepEqual(await parseMailboxFile(Buffer.from('email\tpassword\ncarol@example.test\tc\n')), [{ line: 2, address: 'carol@example.test', sourcePassword: 'c', destPassword: undefined }]);
  // Excel's "CSV" on Windows: Windows-1252, not UTF-8.
  const latin1 = Buffer.from('address,source_password\ndave@example.test,\xE9t\xE9\n', 'latin1');
  assert.equal((await parseMailboxFile(latin1))[0]!.sourcePassword, 'été');
  assert.deepEqual(await parseMailboxFile(Buffer.from(csvTemplate() + 'erin@example.test,,\n')), [{ line: 2, address: 'erin@example.test', sourcePassword: undefined, destPassword: undefined }]);
});

test('a file that cannot be read is refused with what to do', async () => {
  await unreadable('', /empty/);
  await unreadable('alice@example.test,pw\n', /first row must be the header address,source_login,source_password,dest_login,dest_password/);
  await unreadable('address,source_password\n', /no mailbox rows/);
  await unreadable(`address\n${Array.from({ length: MAX_IMPORT_ROWS + 1 }, (_, i) => `u${i}@example.test`).join('\n')}\n`, /more than 10000 rows; at most 10000/);
  await unreadable('address\n"alice@example.test\n', /CSV file cannot be read/);
  await unreadable(Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 1, 2, 3]) as unknown as string, /old Excel \.xls/);
  await unreadable(Buffer.from([0x50, 0x4b, 0x03, 0x04, 0, 0, 0]) as unknown as string, /Excel file cannot be read/);
  await unreadable(Buffer.from([1, 0, 2, 0, 3]) as unknown as string, /neither a CSV file nor an Excel/);
});

test('Excel files: the first sheet, as the cells show (links, numbers), and the template reads back', async () => {
  const rows = await parseMailboxFile(await xlsx([
    ['E-mail', 'Source_Password', 'Dest Password'],
    [{ text: 'alice@example.test', hyperlink: 'mailto:alice@example.test' }, 123456, null],
    [],
    ['  bob@example.test  ', 'b', 'New-2'],
  ]));
  assert.deepEqual(rows, [
    { line: 2, address: 'alice@example.test', sourcePassword: '123456', destPassword: undefined },
    { line: 4, address: 'bob@example.test', sourcePassword: 'b', destPassword: 'New-2' },
  ]);
  const template = new ExcelJS.Workbook();
  await template.xlsx.load(await xlsxTemplate(['help line']) as unknown as ArrayBuffer);
  template.worksheets[0]!.addRow(['carol@example.test', '', '']);
  const filled = Buffer.from(await template.xlsx.writeBuffer());
  assert.deepEqual(await parseMailboxFile(filled), [{ line: 2, address: 'carol@example.test', sourcePassword: undefined, destPassword: undefined }]);
});

test('the dry run names every problem of every row and writes no mailbox', async () => {
  const project = await createProject(land.app, { name: 'dry', source: 'old', destination: 'new', actor: ACTOR });
  const other = await createProject(land.app, { name: 'elsewhere', source: 'old', destination: 'new', actor: ACTOR });
  await addMailboxes(land.app, project.id, [{ line: 1, address: 'alice@example.test' }], ACTOR);
  await addMailboxes(land.app, other.id, [{ line: 1, address: 'bob@example.test' }], ACTOR);
  const file = [
    'address,source_password,dest_password',
    'alice@example.test,,', // 2: already in this project
    'bob@example.test,,', // 3: in another active project
    'not an address,,', // 4
    'carol@example.test,secret-c,Dest-Pass-1', // 5: fine
    'carol@example.test,,', // 6: twice in the file
    'zed@example.test,,', // 7: no such account
    'amy@unknown.test,,', // 8: no such domain
    'frank@example.test,,', // 9: inactive: a warning only
  ].join('\n');
  const pending = await dryRunImport(land.app, project.id, { data: Buffer.from(file), name: 'mailboxes.csv' }, ACTOR);
  assert.deepEqual([pending.total, pending.bad, pending.fileName], [8, 6, 'mailboxes.csv']);
  const bad = await importRows(land.app, pending.id, { bad: true, limit: 100 });
  assert.deepEqual(Object.fromEntries(bad.map((r) => [r.line, r.errors.map((e) => e.code)])), {
    2: ['in_project'], 3: ['in_other_project'], 4: ['address_invalid'], 6: ['duplicate'], 7: ['account_unknown'], 8: ['domain_unknown'],
  });
  assert.deepEqual(bad.find((r) => r.line === 3)!.errors[0]!.params, { address: 'bob@example.test', project: 'elsewhere' });
  const clean = await importRows(land.app, pending.id, { bad: false, limit: 100 });
  assert.deepEqual(clean.map((r) => [r.line, r.address, r.sourcePassword, r.destPassword, r.warnings.map((w) => w.code)]), [
    [5, 'carol@example.test', true, true, []], [9, 'frank@example.test', false, false, ['account_inactive']],
  ]);
  assert.equal(await land.app.db('mailboxes').where({ project_id: project.id }).count({ n: '*' }).then((r) => Number(r[0]!.n)), 1, 'the dry run adds nothing');
  const stored = JSON.stringify(await land.app.db('import_rows').select());
  assert.doesNotMatch(stored, /secret-c|Dest-Pass-1/, 'passwords are stored sealed');

  await assert.rejects(commitImport(land.app, project.id, { importId: pending.id, dropBad: false }, ACTOR), /6 row\(s\) of mailboxes\.csv have problems/);
  await assert.rejects(commitImport(land.app, project.id, { importId: pending.id + 1, dropBad: true }, ACTOR), /another file \(mailboxes\.csv\) was checked since/);
  assert.deepEqual(await commitImport(land.app, project.id, { importId: pending.id, dropBad: true }, ACTOR), { added: ['carol@example.test', 'frank@example.test'], dropped: 6 });
  const carol = await land.app.db('mailboxes').where({ project_id: project.id, address: 'carol@example.test' }).first();
  assert.equal(land.app.box.open(carol.source_password_sealed), 'secret-c');
  assert.equal(land.app.box.open(carol.dest_password_sealed), 'Dest-Pass-1');
  assert.equal(await pendingImport(land.app, project.id), null, 'the dry run is gone once imported');
  assert.equal(Number((await land.app.db('import_rows').count({ n: '*' }))[0]!.n), 0);

  for (const p of [project, other]) { await stopProject(land.app, p.id, ACTOR); await removeProject(land.app, p.id, ACTOR); }
});

test('without a master user every row needs its source password; a new upload replaces the last dry run', async () => {
  const project = await createProject(land.app, { name: 'no-master', source: 'nomaster', destination: 'new', actor: ACTOR });
  const first = await dryRunImport(land.app, project.id, { data: Buffer.from('address,source_password\ndave@example.test,\nerin@example.test,erin-pw\n'), name: 'first.csv' }, ACTOR);
  assert.deepEqual((await importRows(land.app, first.id, { bad: true, limit: 10 })).map((r) => [r.line, r.errors.map((e) => e.code)]), [[2, ['source_password_missing']]]);
  const second = await dryRunImport(land.app, project.id, { data: Buffer.from('address,source_password\ndave@example.test,dave-pw\nerin@example.test,erin-pw\n'), name: 'second.csv' }, ACTOR);
  assert.equal(second.bad, 0);
  assert.equal((await pendingImport(land.app, project.id))!.fileName, 'second.csv');
  assert.equal(Number((await land.app.db('imports').count({ n: '*' }))[0]!.n), 1, 'one pending import per project');
  assert.deepEqual((await commitImport(land.app, project.id, { importId: second.id, dropBad: false }, ACTOR)).added, ['dave@example.test', 'erin@example.test']);
  await stopProject(land.app, project.id, ACTOR);
  await removeProject(land.app, project.id, ACTOR);
});
