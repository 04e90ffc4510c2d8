import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startPanelLandscape, type PanelLandscape } from '../support/panel-platforms.ts';
import { Client } from './client.ts';

let land: PanelLandscape;

before(async () => {
  land = await startPanelLandscape({ domains: { 'example.test': [{ address: 'alice@example.test', password: 'a' }, { address: 'bob@example.test', password: 'b' }] } });
});
after(async () => { await land?.stop(); });

function form(token: string, fields: Record<string, string>): Record<string, string> {
  return { _csrf: token, name: '', source: 'old', destination: 'new', startMode: 'auto', concurrency: '4', tempPattern: '{local}{nn}@{domain}', overlap: '24h', excludeFolders: '', maxMessageMb: '', notify: '', ...fields };
}

async function projectId(name: string): Promise<number> {
  return (await land.app.db('projects').where({ name }).first()).id;
}

test('the new-project form refuses bad fields one by one and keeps what was typed', async () => {
  const page = await land.client.request('/projects/new');
  assert.equal(page.status, 200);
  assert.match(page.text, /<option value="old">old<\/option>/);
  assert.match(page.text, /<option value="new">new<\/option>/);
  assert.match(page.text, /name="_csrf" value="[^"]+"/);
  const token = await land.client.token('/projects/new');
  const res = await land.client.request('/projects/new', { form: form(token, { name: 'Wave 1', destination: 'old', overlap: 'soon', notify: 'ops@example.net, not-an-address', concurrency: '0' }) });
  assert.equal(res.status, 400);
  assert.match(res.text, /The project was not created: correct the fields below\./);
  assert.match(res.text, /The destination must differ from the source\./);
  assert.match(res.text, /&quot;soon&quot; is not a duration/);
  assert.match(res.text, /Not e-mail addresses: not-an-address/);
  assert.match(res.text, /A whole number from 1 to 64\./);
  assert.match(res.text, /name="name" value="Wave 1"/, 'the name is kept');
  assert.match(res.text, /ops@example\.net, not-an-address<\/textarea>/, 'the recipients are kept');
  assert.equal(Number((await land.app.db('projects').count({ n: '*' }))[0]!.n), 0);

  const noCsrf = await land.client.request('/projects/new', { form: { ...form('', { name: 'x' }), _csrf: 'forged' } });
  assert.equal(noCsrf.status, 403);
});

test('a manual project: created from the form, a mailbox added by hand waits until Start', async () => {
  const token = await land.client.token('/projects/new');
  const created = await land.client.request('/projects/new', { form: form(token, { name: 'Manual wave', startMode: 'manual', excludeFolders: 'Junk\r\nTrash', maxMessageMb: '25', overlap: '2h', notify: 'ops@example.net', resetSource: 'yes' }) });
  assert.equal(created.status, 303);
  const id = await projectId('Manual wave');
  assert.equal(created.headers.get('location'), `/panel/projects/${id}`);
  const options = JSON.parse((await land.app.db('projects').where({ id }).first()).options);
  assert.deepEqual([options.startMode, options.excludeFolders, options.maxMessageBytes, options.overlapSeconds, options.notify, options.resetSource], ['manual', ['Junk', 'Trash'], 25 * 1024 * 1024, 7200, ['ops@example.net'], true]);
  const page = await land.client.request(`/projects/${id}`);
  assert.match(page.text, /Project Manual wave created\./);
  assert.match(page.text, new RegExp(`href="/panel/projects/${id}/mailboxes/new"`));
  assert.match(page.text, new RegExp(`href="/panel/projects/${id}/import"`));
  assert.doesNotMatch(page.text, /id="project-start"/, 'nothing to start yet');
  assert.equal((await land.client.request('/projects/new', { form: form(await land.client.token('/projects/new'), { name: 'Manual wave' }) })).status, 400, 'a second project with the same name is refused');

  const addPage = `/projects/${id}/mailboxes/new`;
  const refused = await land.client.request(addPage, { form: { _csrf: await land.client.token(addPage), address: 'zed@example.test', sourcePassword: 'never-shown-again' } });
  assert.equal(refused.status, 400);
  assert.match(refused.text, /zed@example\.test does not exist on the source platform\./);
  assert.match(refused.text, /name="address" value="zed@example\.test"/);
  assert.doesNotMatch(refused.text, /never-shown-again/, 'a password is never sent back');

  const added = await land.client.request(addPage, { form: { _csrf: await land.client.token(addPage), address: 'alice@example.test', sourcePassword: '', destPassword: '' } });
  assert.equal(added.status, 303);
  const alice = await land.app.db('mailboxes').where({ project_id: id, address: 'alice@example.test' }).first();
  assert.deepEqual([alice.state, alice.step], ['paused', 'preflight']);
  let projectPage = await land.client.request(`/projects/${id}`);
  assert.match(projectPage.text, /alice@example\.test added to the project\./);
  assert.match(projectPage.text, /Start \(1 mailbox\(es\) waiting\)/);

  const started = await land.client.request(`/projects/${id}/start`, { form: { _csrf: await land.client.token(`/projects/${id}`) } });
  assert.equal(started.status, 303);
  assert.equal((await land.app.db('mailboxes').where({ id: alice.id }).first()).state, 'queued');
  projectPage = await land.client.request(`/projects/${id}`);
  assert.match(projectPage.text, /Project started: 1 mailbox\(es\) queued\./);
  assert.doesNotMatch(projectPage.text, /id="project-start"/);
});

test('complete and remove need the confirmation box and refuse a running project in words', async () => {
  const id = await projectId('Manual wave');
  const page = `/projects/${id}`;
  let res = await land.client.request(`${page}/complete`, { form: { _csrf: await land.client.token(page) } });
  assert.equal(res.status, 303);
  assert.match((await land.client.request(page)).text, /Tick the box to confirm first\./);
  res = await land.client.request(`${page}/complete`, { form: { _csrf: await land.client.token(page), confirm: 'yes' } });
  assert.match((await land.client.request(page)).text, /Cannot complete project Manual wave: 1 mailbox\(es\) are still in progress \(1 queued\)/);
  res = await land.client.request(`${page}/remove`, { form: { _csrf: await land.client.token(page), confirm: 'yes' } });
  assert.match((await land.client.request(page)).text, /Cannot remove project Manual wave: 1 mailbox/);
  assert.ok(await land.app.db('projects').where({ id }).first(), 'still there');

  // The bulk form offers the new actions; Stop, then Complete, then Remove.
  const withBulk = await land.client.request(page);
  for (const action of ['start', 'sync', 'retry']) assert.match(withBulk.text, new RegExp(`name="action" value="${action}"`));
  res = await land.client.request(`${page}/actions`, { form: { _csrf: await land.client.token(page), action: 'stop', back: `/panel${page}` } });
  assert.equal(res.status, 303);
  res = await land.client.request(`${page}/complete`, { form: { _csrf: await land.client.token(page), confirm: 'yes' } });
  const completed = await land.client.request(page);
  assert.match(completed.text, /The project is completed\./);
  assert.match(completed.text, /id="project-completed"/);
  assert.doesNotMatch(completed.text, /id="add-mailbox"/, 'a completed project takes no new mailboxes');
  res = await land.client.request(`${page}/remove`, { form: { _csrf: await land.client.token(page), confirm: 'yes' } });
  assert.equal(res.headers.get('location'), '/panel/');
  assert.match((await land.client.request('/')).text, /Project Manual wave removed \(1 mailbox\(es\)\)\./);
  assert.equal(await land.app.db('projects').where({ id }).first(), undefined);
  assert.equal((await land.client.request(page)).status, 404);
});

test('a file import project: a platform of files as the source, no source password, the mailbox page to upload on', async () => {
  assert.equal((await land.client.request('/platforms/new?plugin=files')).status, 200);
  const added = await land.client.request('/platforms', { form: { _csrf: await land.client.token('/platforms/new?plugin=files'), plugin: 'files', name: 'exports' } });
  assert.equal(added.status, 303);
  const backwards = await land.client.request('/projects/new', { form: form(await land.client.token('/projects/new'), { name: 'Backwards', source: 'new', destination: 'exports' }) });
  assert.equal(backwards.status, 400);
  assert.match(backwards.text, /exports holds no mail \(files uploaded to the panel\): it can only be a source/);
  const created = await land.client.request('/projects/new', { form: form(await land.client.token('/projects/new'), { name: 'From files', source: 'exports' }) });
  assert.equal(created.status, 303);
  const id = await projectId('From files');
  const addPage = `/projects/${id}/mailboxes/new`;
  const page = await land.client.request(addPage);
  assert.match(page.text, /id="from-files"/);
  assert.doesNotMatch(page.text, /name="sourcePassword"/);
  const res = await land.client.request(addPage, { form: { _csrf: await land.client.token(addPage), address: 'carol@example.test', destPassword: '' } });
  assert.equal(res.status, 303);
  const carol = await land.app.db('mailboxes').where({ project_id: id, address: 'carol@example.test' }).first();
  assert.equal(carol.source_password_sealed, null);
  assert.match((await land.client.request(`/mailboxes/${carol.id}`)).text, new RegExp(`id="files-link" href="/panel/mailboxes/${carol.id}/files"`));
});

test('the pages speak French too', async () => {
  const fr = new Client(land.url, { 'accept-language': 'fr' });
  assert.equal((await fr.login()).status, 303);
  const page = await fr.request('/projects/new');
  assert.match(page.text, /<h1>Nouveau projet<\/h1>/);
  assert.match(page.text, /Manuel : les boîtes attendent que vous cliquiez sur Démarrer/);
  const refused = await fr.request('/projects/new', { form: form(await fr.token('/projects/new'), { name: '' }) });
  assert.match(refused.text, /Donnez un nom au projet\./);
});
