import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import ExcelJS from 'exceljs';
import { createProject } from '../../server/services/projects.ts';
import { startPanelLandscape, upload, type PanelLandscape } from '../support/panel-platforms.ts';
import { deflatedSpaces, writeZip } from '../support/zip.ts';
import { Client } from './client.ts';

let land: PanelLandscape;
const ACCOUNTS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'gina', 'hugo'].map((local) => ({ address: `${local}@example.test`, password: `${local}-pw` }));
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

before(async () => {
  land = await startPanelLandscape({ domains: { 'example.test': ACCOUNTS } });
});
after(async () => { await land?.stop(); });

async function newProject(name: string, source = 'old'): Promise<number> {
  return (await createProject(land.app, { name, source, destination: 'new', actor: 'test' })).id;
}

async function mailboxes(projectId: number): Promise<string[]> {
  return land.app.db('mailboxes').where({ project_id: projectId }).orderBy('address').pluck('address');
}

/** Uploads through the page's form, with the page's CSRF token, as a browser without JavaScript does. */
async function send(projectId: number, file: { name: string; data: Buffer | string; type?: string }) {
  const token = await land.client.token(`/projects/${projectId}/import`);
  return upload(land.client, `/projects/${projectId}/import`, { _csrf: token }, file);
}

async function commit(projectId: number, fields: Record<string, string> = {}) {
  const page = await land.client.request(`/projects/${projectId}/import`);
  const importId = /name="importId" value="(\d+)"/.exec(page.text)?.[1] ?? '';
  return land.client.request(`/projects/${projectId}/import/commit`, { form: { _csrf: await land.client.token(`/projects/${projectId}/import`), importId, ...fields } });
}

test('a CSV with one bad row shows that row\'s error and imports nothing; the fixed file imports all', async () => {
  const id = await newProject('csv');
  const bad = await send(id, { name: 'wave.csv', data: 'address;source_password;dest_password\nalice@example.test;;\nbob@exmaple.test;;\ncarol@example.test;c-secret;\n' });
  assert.equal(bad.status, 303, bad.text);
  const page = await land.client.request(`/projects/${id}/import`);
  assert.match(page.text, /3 row\(s\) checked: 1 with problems\. Nothing was imported\./);
  assert.match(page.text, /<tr data-line="3" data-bad><td>3<\/td><td>bob@exmaple\.test<\/td><td class="error">The domain exmaple\.test does not exist on the source platform\./);
  assert.match(page.text, /3 row\(s\): 2 ready, 1 with problems\./);
  assert.doesNotMatch(page.text, /Import the \d+ mailbox/, 'no import button while the file has bad rows');
  assert.match(page.text, /Drop the 1 bad row\(s\) and import the other 2/);
  assert.doesNotMatch(page.text, /c-secret/, 'passwords never come back in the page');
  assert.deepEqual(await mailboxes(id), []);

  const refused = await commit(id);
  assert.equal(refused.status, 303);
  assert.match((await land.client.request(`/projects/${id}/import`)).text, /1 row\(s\) of wave\.csv have problems/);
  assert.deepEqual(await mailboxes(id), [], 'a commit of a file with bad rows imports nothing');

  const fixed = await send(id, { name: 'wave-fixed.csv', data: 'address;source_password;dest_password\nalice@example.test;;\nbob@example.test;;\ncarol@example.test;c-secret;\n' });
  assert.equal(fixed.status, 303);
  const clean = await land.client.request(`/projects/${id}/import`);
  assert.match(clean.text, /Check of wave-fixed\.csv/);
  assert.match(clean.text, /Import the 3 mailbox\(es\)/);
  const done = await commit(id);
  assert.equal(done.headers.get('location'), `/panel/projects/${id}`);
  assert.match((await land.client.request(`/projects/${id}`)).text, /3 mailbox\(es\) imported \(0 bad row\(s\) dropped\)\./);
  assert.deepEqual(await mailboxes(id), ['alice@example.test', 'bob@example.test', 'carol@example.test']);
  const carol = await land.app.db('mailboxes').where({ project_id: id, address: 'carol@example.test' }).first();
  assert.equal(land.app.box.open(carol.source_password_sealed), 'c-secret');
  assert.doesNotMatch((await land.client.request(`/projects/${id}/import`)).text, /Check of/, 'the dry run is gone');
});

test('"drop the bad rows" imports the rest', async () => {
  const id = await newProject('drop');
  await send(id, { name: 'mixed.csv', data: 'address\ndave@example.test\nnot-an-address\ndave@example.test\nerin@example.test\n' });
  const page = await land.client.request(`/projects/${id}/import`);
  assert.match(page.text, /&quot;not-an-address&quot; is not an e-mail address\./);
  assert.match(page.text, /dave@example\.test is already on line 2 of this file\./);
  const res = await commit(id, { dropBad: 'yes' });
  assert.equal(res.status, 303);
  assert.deepEqual(await mailboxes(id), ['dave@example.test', 'erin@example.test']);
  assert.match((await land.client.request(`/projects/${id}`)).text, /2 mailbox\(es\) imported \(2 bad row\(s\) dropped\)\./);
});

test('an Excel file imports, and both templates download and import as they are filled in', async () => {
  const id = await newProject('excel', 'nomaster');
  const workbook = new ExcelJS.Workbook();
  const sheet = workbook.addWorksheet('Sheet1');
  sheet.addRow(['Address', 'Source password', 'Dest password']);
  sheet.addRow([{ text: 'frank@example.test', hyperlink: 'mailto:frank@example.test' }, 'frank-pw', 'Frank-New-1']);
  const xlsx = Buffer.from(await workbook.xlsx.writeBuffer());
  assert.equal((await send(id, { name: 'wave.xlsx', data: xlsx, type: XLSX })).status, 303);
  assert.match((await land.client.request(`/projects/${id}/import`)).text, /1 row\(s\): 1 ready, 0 with problems\./);
  assert.equal((await commit(id)).status, 303);
  assert.deepEqual(await mailboxes(id), ['frank@example.test']);

  const csvTemplate = await land.client.request(`/projects/${id}/import/template.csv`);
  assert.equal(csvTemplate.status, 200);
  assert.match(csvTemplate.headers.get('content-disposition')!, /attachment; filename="?cutover-mailboxes\.csv"?/);
  assert.equal(csvTemplate.text, 'address,source_login,source_password,dest_login,dest_password\r\n');
  await send(id, { name: 'from-template.csv', data: `${csvTemplate.text}gina@example.test,,gina-pw,,\r\n` });
  assert.match((await land.client.request(`/projects/${id}/import`)).text, /1 row\(s\): 1 ready, 0 with problems\./);
  assert.equal((await commit(id)).status, 303);

  const res = await fetch(`${land.url}/projects/${id}/import/template.xlsx`, { headers: { cookie: land.client.cookie } });
  assert.equal(res.headers.get('content-type'), XLSX);
  const template = new ExcelJS.Workbook();
  await template.xlsx.load(await res.arrayBuffer());
  assert.deepEqual(template.worksheets.map((s) => s.name), ['mailboxes', 'help']);
  template.worksheets[0]!.addRow(['hugo@example.test', '', 'hugo-pw', '', '']);
  await send(id, { name: 'from-template.xlsx', data: Buffer.from(await template.xlsx.writeBuffer()), type: XLSX });
  assert.match((await land.client.request(`/projects/${id}/import`)).text, /1 row\(s\): 1 ready, 0 with problems\./);
  assert.equal((await commit(id)).status, 303);
  assert.deepEqual(await mailboxes(id), ['frank@example.test', 'gina@example.test', 'hugo@example.test']);
});

test('an upload without the form\'s CSRF token is refused and stores nothing', async () => {
  const id = await newProject('csrf');
  const file = { name: 'x.csv', data: 'address\nalice@example.test\n' };
  const none = await upload(land.client, `/projects/${id}/import`, {}, file);
  assert.equal(none.status, 403);
  assert.match(none.text, /did not come from this panel/);
  const forged = await upload(land.client, `/projects/${id}/import`, { _csrf: 'x'.repeat(64) }, file);
  assert.equal(forged.status, 403);
  const api = await upload(land.client, `/api/projects/${id}/import`, {}, file);
  assert.equal(api.status, 403);
  assert.equal(JSON.parse(api.text).error.code, 'CSRF_INVALID');
  // A multipart post anywhere else is not read at all, so its token is never found either.
  const elsewhere = await upload(land.client, `/projects/${id}/actions`, { _csrf: await land.client.token(`/projects/${id}`), action: 'stop' });
  assert.equal(elsewhere.status, 403);
  assert.equal(Number((await land.app.db('imports').count({ n: '*' }))[0]!.n), 0);
  // A visitor without a session gets nothing read either.
  const anonymous = await fetch(`${land.url}/projects/${id}/import`, { method: 'POST', body: new FormData(), redirect: 'manual' });
  assert.equal(anonymous.status, 403);
});

test('a bad upload is explained on the page: no file, too large, unreadable', async () => {
  const id = await newProject('bad-uploads');
  const token = await land.client.token(`/projects/${id}/import`);
  const noFile = await upload(land.client, `/projects/${id}/import`, { _csrf: token });
  assert.equal(noFile.status, 400);
  assert.match(noFile.text, /Choose a file first\./);
  const tooLarge = await upload(land.client, `/projects/${id}/import`, { _csrf: token }, { name: 'big.csv', data: Buffer.alloc(5 * 1024 * 1024 + 1, 'a') });
  assert.equal(tooLarge.status, 400);
  assert.match(tooLarge.text, /The file is larger than 5 MB: split it\./);
  const noHeader = await upload(land.client, `/projects/${id}/import`, { _csrf: token }, { name: 'plain.csv', data: 'alice@example.test\n' });
  assert.equal(noHeader.status, 400);
  assert.match(noHeader.text, /the first row must be the header address,source_login,source_password,dest_login,dest_password/);
  assert.equal(await land.app.db('imports').where({ project_id: id }).first(), undefined);
});

test('upload bombs are refused on the page with what to do, and the panel stays up', async () => {
  const id = await newProject('bombs');
  const token = await land.client.token(`/projects/${id}/import`);
  const bomb = writeZip([{ name: '[Content_Types].xml', data: Buffer.from('<Types/>') }, { name: 'xl/worksheets/sheet1.xml', ...deflatedSpaces(400) }]);
  const xlsxBomb = await upload(land.client, `/projects/${id}/import`, { _csrf: token }, { name: 'bomb.xlsx', data: bomb, type: XLSX });
  assert.equal(xlsxBomb.status, 400);
  assert.match(xlsxBomb.text, /this Excel file unpacks to more than 50 MB \(the import limit\)/);
  const rows = await upload(land.client, `/projects/${id}/import`, { _csrf: token }, { name: 'rows.csv', data: 'address\n' + 'a\n'.repeat(1_000_000) });
  assert.equal(rows.status, 400);
  assert.match(rows.text, /the file has more than 10000 rows; at most 10000 per import: split it/);
  assert.equal((await new Client(land.client.base).request('/login')).status, 200);
  assert.equal(await land.app.db('imports').where({ project_id: id }).first(), undefined);
});

test('"forget this file" drops the dry run and imports nothing', async () => {
  const id = await newProject('forget');
  await send(id, { name: 'later.csv', data: 'address\ngina@example.test\n' });
  const res = await land.client.request(`/projects/${id}/import/discard`, { form: { _csrf: await land.client.token(`/projects/${id}/import`) } });
  assert.equal(res.status, 303);
  const page = await land.client.request(`/projects/${id}/import`);
  assert.match(page.text, /The checked file was forgotten; nothing was imported\./);
  assert.doesNotMatch(page.text, /Check of later\.csv/);
  assert.deepEqual(await mailboxes(id), []);
  assert.equal(await land.app.db('imports').where({ project_id: id }).first(), undefined);
  assert.match((await land.app.db('events').where({ project_id: id, outcome: 'import-discarded' }).first()).message, /later\.csv discarded by web:root/);
});
