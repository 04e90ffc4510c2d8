// The imap plugin's DAV and ManageSieve settings: the schema's rules, the panel's generated form
// (fieldsets, the admin password as a write-only secret) and the JSON API, as for postfixadmin.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import imapPlugin from '../../../plugins/imap/index.ts';
import { storedConfig } from '../../../server/services/platforms.ts';
import { Client, startPanel } from '../../web/client.ts';

const base = { host: 'mail.customer.example', port: 993 };
let panel: Awaited<ReturnType<typeof startPanel>>;
let client: Client;

before(async () => {
  panel = await startPanel();
  client = new Client(panel.url);
  assert.equal((await client.login()).status, 303);
});
after(async () => { await panel?.close(); });

const field = (html: string, name: string) => new RegExp(`<div class="field" data-field="${name.replace(/\./g, '\\.')}">([\\s\\S]*?)</div>`).exec(html)?.[1] ?? '';
const issues = (config: unknown) => {
  const result = imapPlugin.configSchema.safeParse(config);
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

test('the schema: a DAV URL or discovery (one of them), an admin principal path with {user}, a header name; Sieve on a host', () => {
  assert.deepEqual(issues({ ...base, dav: { url: 'https://dav.customer.example/' }, sieve: { host: 'mail.customer.example' } }), []);
  assert.deepEqual(issues({ ...base, dav: { url: 'https://dav.customer.example/', admin: { user: 'root', passwordEnv: 'CUTOVER_PLATFORM_DAV', userHeader: 'X-Remote-User' } } }), []);
  assert.deepEqual(issues({ ...base, dav: { discover: true } }), []);
  assert.match(issues({ ...base, dav: { discover: true, admin: { user: 'root', password: 'x' } } }).join(), /dav\.discover: an admin login is sent only to a server you name/);
  const parsed = imapPlugin.configSchema.parse({ ...base, dav: { url: 'https://dav.customer.example/', admin: { user: 'root', password: 'x' } }, sieve: { host: 'mail.customer.example' } }) as Record<string, any>;
  assert.equal(parsed.dav.admin.principalPath, '/{user}/');
  assert.deepEqual(parsed.sieve, { host: 'mail.customer.example', port: 4190, security: 'starttls', tlsVerify: true, allowPlaintext: false });
  assert.match(issues({ ...base, dav: {} }).join(), /dav\.url: give url, or discover: true/);
  assert.match(issues({ ...base, dav: { url: 'https://a.example/', discover: true } }).join(), /not both/);
  assert.match(issues({ ...base, dav: { url: 'ftp://a.example/' } }).join(), /dav\.url/);
  assert.match(issues({ ...base, dav: { url: 'https://a.example/', admin: { user: 'root', password: 'x', principalPath: '/users/' } } }).join(), /dav\.admin\.principalPath: an absolute path containing \{user\}/);
  assert.match(issues({ ...base, dav: { url: 'https://a.example/', admin: { user: 'root', password: 'x', userHeader: 'X-User\r\nEvil: 1' } } }).join(), /an HTTP header name/);
  assert.match(issues({ ...base, dav: { url: 'https://a.example/', admin: { user: 'root' } } }).join(), /give exactly one of password, passwordFile, passwordEnv/);
  assert.match(issues({ ...base, sieve: { host: 'mail.customer.example', security: 'none' } }).join(), /sends passwords in clear/);
  assert.match(issues({ ...base, dav: { url: 'https://a.example/', unknown: 1 } }).join(), /unrecognized key/i);
});

test('the generated form has DAV (with its admin login) and Sieve fieldsets; a form left at its defaults adds neither', async () => {
  const html = (await client.request('/platforms/new?plugin=imap')).text;
  assert.match(html, /<legend>dav <span class="muted">\(optional/);
  assert.match(html, /<legend>sieve <span class="muted">\(optional/);
  assert.match(field(html, 'dav.admin.password'), /type="password" id="f-dav-admin-password" name="dav\.admin\.password" value=""/);
  assert.match(field(html, 'dav.admin.principalPath'), /value="\/\{user\}\/"/);
  assert.doesNotMatch(field(html, 'dav.discover'), /checked/);
  assert.match(field(html, 'sieve.port'), /value="4190"/);

  const form = { plugin: 'imap', name: 'plain', host: '127.0.0.1', port: '993', security: 'tls', tlsVerify: 'on', skipTest: 'on',
    'dav.tlsVerify': 'on', 'dav.admin.principalPath': '/{user}/', 'sieve.port': '4190', 'sieve.security': 'starttls', 'sieve.tlsVerify': 'on' };
  const plain = await client.request('/platforms', { form: { _csrf: await client.token('/platforms/new?plugin=imap'), ...form } });
  assert.equal(plain.status, 303, plain.text);
  const stored = storedConfig(panel.app, await panel.app.db('platforms').where({ name: 'plain' }).first());
  assert.equal(stored.dav, undefined);
  assert.equal(stored.sieve, undefined);

  const full = await client.request('/platforms', { form: { _csrf: await client.token('/platforms/new?plugin=imap'), ...form, name: 'full',
    'dav.url': 'https://dav.customer.example/', 'dav.admin.user': 'dav-root', 'dav.admin.password': 'Typed-Dav-Secret-1', 'dav.admin.userHeader': 'X-Remote-User', 'sieve.host': 'sieve.customer.example' } });
  assert.equal(full.status, 303, full.text);
  const config = storedConfig(panel.app, await panel.app.db('platforms').where({ name: 'full' }).first());
  assert.deepEqual(config.dav, { url: 'https://dav.customer.example/', discover: false, tlsVerify: true, allowPlaintext: false, admin: { user: 'dav-root', password: 'Typed-Dav-Secret-1', principalPath: '/{user}/', userHeader: 'X-Remote-User' } });
  assert.deepEqual(config.sieve, { host: 'sieve.customer.example', port: 4190, security: 'starttls', tlsVerify: true, allowPlaintext: false });
  const edit = (await client.request('/platforms/full/edit')).text;
  assert.match(field(edit, 'dav.admin.password'), /value=""[\s\S]*A value is stored and never shown/);
  assert.doesNotMatch(edit, /Typed-Dav-Secret-1/);
});

test('the API adds an imap platform with DAV and Sieve settings; the admin password is never returned', async () => {
  const session = JSON.parse((await client.request('/api/session')).text);
  const headers = { 'x-csrf-token': session.csrfToken };
  const config = { host: '127.0.0.1', security: 'tls', dav: { url: 'https://dav.customer.example/', admin: { user: 'dav-root', password: 'Api-Dav-Secret-2', principalPath: '/SOGo/dav/{user}/' } }, sieve: { host: 'sieve.customer.example', port: 4190 } };
  const added = await client.request('/api/platforms', { json: { name: 'api', plugin: 'imap', config, skipTest: true }, headers });
  assert.equal(added.status, 201, added.text);
  const details = await client.request('/api/platforms/api');
  const body = JSON.parse(details.text);
  assert.equal(body.config.dav.url, 'https://dav.customer.example/');
  assert.equal(body.config.dav.admin.principalPath, '/SOGo/dav/{user}/');
  assert.equal(body.config.dav.admin.password, undefined);
  assert.ok(body.secrets.includes('dav.admin.password'));
  assert.doesNotMatch(details.text, /Api-Dav-Secret-2/);
  const bad = await client.request('/api/platforms', { json: { name: 'bad', plugin: 'imap', config: { ...config, dav: { discover: true, url: 'https://x.example/' } }, skipTest: true }, headers });
  assert.equal(bad.status, 400);
  assert.match(bad.text, /not both/);
  // Moving the DAV server elsewhere with the stored admin password kept is refused (a stored secret never goes to a new destination).
  const moved = await client.request('/api/platforms/api', { method: 'PUT', json: { config: { ...config, dav: { url: 'https://elsewhere.example/', admin: { user: 'dav-root', principalPath: '/SOGo/dav/{user}/' } } } }, headers });
  assert.equal(moved.status, 400, moved.text);
  assert.match(moved.text, /dav\.url changed: enter this secret again/);
});
