import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { freePort } from '../../server/devservers/ports.ts';
import { storedConfig } from '../../server/services/platforms.ts';
import { startFakeOvh, type FakeOvh } from '../support/fake-ovh/index.ts';
import { DOMAIN, NEW_MX, startLandscape, type Landscape } from '../support/platforms.ts';
import { Client, startPanel } from './client.ts';

let land: Landscape;
let ovh: FakeOvh;
let panel: Awaited<ReturnType<typeof startPanel>>;
let client: Client;
/** Every answer the panel gave in this file: at the end, none may contain a stored secret. */
const answers: string[] = [];
const TYPED_SECRET = 'Typed-But-Invalid-9';
const NEW_SECRET = 'Replaced-Master-Pw-7';
/** The OVHcloud application secret and consumer keys, the TSIG secret: filled in by the tests that type them. */
const ovhSecrets: string[] = [];

class RecordingClient extends Client {
  override async request(...args: Parameters<Client['request']>) {
    const res = await super.request(...args);
    answers.push(res.text, JSON.stringify([...res.headers]));
    return res;
  }
}

const field = (html: string, name: string) => new RegExp(`<div class="field" data-field="${name.replace(/\./g, '\\.')}">([\\s\\S]*?)</div>`).exec(html)?.[1] ?? '';

/** The form as an admin fills it in for the old Dovecot host (master password typed in the form). */
function oldHostForm(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    plugin: 'postfixadmin', name: 'old',
    'database.client': 'sqlite3', 'database.filename': land.old.dbPath,
    'imap.host': '127.0.0.1', 'imap.port': String(land.old.port), 'imap.security': 'none', 'imap.tlsVerify': 'on',
    'masterUser.user': land.old.masterUser, 'masterUser.separator': '*', 'masterUser.password': land.old.masterPassword,
    mailHost: NEW_MX, 'expectedDns.mx': JSON.stringify([{ priority: 10, exchange: NEW_MX }]), 'expectedDns.spfIncludes': 'spf.new.example.net\n',
    relayTable: 'cutover_domain_relay',
    // A browser posts the checkboxes it renders checked: the optional DAV and Sieve groups stay at their defaults, so they are left out.
    'dav.tlsVerify': 'on', 'sieve.tlsVerify': 'on',
    ...overrides,
  };
}

async function post(path: string, form: Record<string, string>, tokenFrom = '/platforms') {
  return client.request(path, { form: { _csrf: await client.token(tokenFrom), ...form } });
}

async function stored(name: string): Promise<Record<string, unknown>> {
  return storedConfig(panel.app, await panel.app.db('platforms').where({ name }).first());
}

before(async () => {
  [land, ovh, panel] = await Promise.all([startLandscape({ accounts: [{ address: `alice@${DOMAIN}`, password: 'alice-pw-1' }] }), startFakeOvh({ taskDelayMs: 50 }), startPanel()]);
  client = new RecordingClient(panel.url);
  assert.equal((await client.login()).status, 303);
});
after(async () => {
  await panel?.close();
  await ovh?.stop();
  await land?.stop();
});

test('the platforms page lists nothing yet and offers each plugin; the navigation links to it', async () => {
  const page = await client.request('/platforms');
  assert.equal(page.status, 200);
  assert.match(page.text, /No platform or DNS provider yet/);
  for (const id of ['postfixadmin', 'ovhcloud', 'rfc2136']) assert.match(page.text, new RegExp(`href="/panel/platforms/new\\?plugin=${id}"`));
  assert.match(page.text, /rfc2136<\/a><\/td><td>DNS provider</);
  assert.match((await client.request('/')).text, /href="\/panel\/platforms"/);
  assert.equal((await client.request('/platforms/new?plugin=nope')).status, 404);
});

test('the add form is generated from the schema: fieldsets, variant select, enums, checkboxes, numbers, lists, JSON, defaults, secrets', async () => {
  const page = await client.request('/platforms/new?plugin=postfixadmin');
  assert.equal(page.status, 200);
  const html = page.text;
  assert.match(html, /<input type="hidden" name="_csrf" value="[^"]+">/);
  assert.match(html, /<legend>imap<\/legend>/);
  assert.match(html, /<select id="f-database-client" name="database\.client"><option value="" selected>—<\/option><option value="sqlite3">sqlite3<\/option><option value="pg">pg<\/option><\/select>/);
  assert.match(html, /<fieldset data-variant="sqlite3"><legend>when client is sqlite3<\/legend>/);
  assert.match(field(html, 'database.filename'), /type="text"/);
  assert.match(field(html, 'database.connection'), /type="password"/, 'a PostgreSQL URL is a secret');
  assert.match(field(html, 'imap.port'), /type="number" id="f-imap-port" name="imap\.port" value="" step="1"/);
  assert.match(field(html, 'imap.security'), /<option value="tls">tls<\/option><option value="starttls">starttls<\/option><option value="none">none<\/option>/);
  assert.match(field(html, 'imap.tlsVerify'), /type="checkbox" id="f-imap-tlsVerify" name="imap\.tlsVerify" value="on" checked/, 'default true');
  assert.doesNotMatch(field(html, 'imap.allowPlaintext'), /checked/, 'default false');
  assert.match(html, /<legend>masterUser <span class="muted">\(optional/);
  assert.match(field(html, 'masterUser.password'), /type="password" id="f-masterUser-password" name="masterUser\.password" value=""/);
  assert.match(field(html, 'masterUser.separator'), /value="\*"/, 'default prefilled');
  assert.match(field(html, 'expectedDns.mx'), /<textarea[^>]*name="expectedDns\.mx"[^>]*><\/textarea>[\s\S]*JSON/);
  assert.match(field(html, 'expectedDns.spfIncludes'), /<textarea[^>]*name="expectedDns\.spfIncludes"[\s\S]*One value per line/);
  assert.match(field(html, 'relayTable'), /value="cutover_domain_relay"/);
  assert.match(html, /name="skipTest"/);

  const ovhForm = (await client.request('/platforms/new?plugin=ovhcloud')).text;
  assert.match(field(ovhForm, 'region'), /<option value="ovh-eu" selected>/);
  assert.match(field(ovhForm, 'createWithPost'), /<select[\s\S]*<option value="true">yes<\/option><option value="false">no<\/option>/, 'optional boolean without default: three states');
  assert.match(field(ovhForm, 'zones'), /DNS provider: zones it may change/, 'the schema\'s description');
  for (const secret of ['applicationSecret', 'consumerKey']) assert.match(field(ovhForm, secret), /type="password"/);
  assert.match(field((await client.request('/platforms/new?plugin=rfc2136')).text, 'key.secret'), /type="password"/);
});

test('bad input comes back with each error next to its field, the admin\'s input kept (secrets aside), and nothing stored', async () => {
  const res = await post('/platforms', oldHostForm({ 'imap.port': 'imap', mailHost: '', 'masterUser.password': TYPED_SECRET, 'expectedDns.mx': '[{"priority": 10,' }), '/platforms/new?plugin=postfixadmin');
  assert.equal(res.status, 400);
  assert.match(res.text, /Some fields are not valid: nothing was saved\./);
  assert.match(field(res.text, 'imap.port'), /value="imap"[\s\S]*<p class="error" role="alert">Not a number\.<\/p>/);
  assert.match(field(res.text, 'mailHost'), /<p class="error" role="alert">[^<]+<\/p>/);
  assert.match(field(res.text, 'expectedDns.mx'), /Not valid JSON/);
  assert.match(field(res.text, 'imap.host'), /value="127\.0\.0\.1"/, 'input kept');
  assert.match(field(res.text, 'database.filename'), new RegExp(`value="${land.old.dbPath.replace(/[.]/g, '\\.')}"`));
  assert.match(res.text, /name="name" value="old"/);
  assert.doesNotMatch(res.text, new RegExp(TYPED_SECRET), 'a typed secret is not sent back');
  assert.equal((await panel.app.db('platforms').count({ n: '*' }))[0].n, 0);

  // Valid but unreachable: the connection test refuses it before anything is stored.
  const down = await post('/platforms', oldHostForm({ 'imap.port': String(await freePort()) }), '/platforms/new?plugin=postfixadmin');
  assert.equal(down.status, 422);
  assert.match(down.text, /Cannot reach 127\.0\.0\.1:\d+/);
  assert.equal((await panel.app.db('platforms').count({ n: '*' }))[0].n, 0);
});

test('a valid form is tested and added; the edit form shows the values but never the secret', async () => {
  const res = await post('/platforms', oldHostForm(), '/platforms/new?plugin=postfixadmin');
  assert.equal(res.status, 303, res.text);
  assert.equal(res.headers.get('location'), '/panel/platforms/old/edit');
  const config = await stored('old');
  assert.deepEqual(config.masterUser, { user: land.old.masterUser, separator: '*', password: land.old.masterPassword });
  assert.deepEqual(config.expectedDns, { mx: [{ priority: 10, exchange: NEW_MX }], spfIncludes: ['spf.new.example.net'] });
  assert.equal((await panel.app.db('audit').where({ action: 'platform.add' }).first()).actor, 'web:root');

  const edit = await client.request('/platforms/old/edit');
  assert.match(edit.text, /Platform old added\./);
  assert.match(field(edit.text, 'imap.port'), new RegExp(`value="${land.old.port}"`));
  assert.match(field(edit.text, 'database.client'), /<option value="sqlite3" selected>/);
  assert.match(field(edit.text, 'expectedDns.spfIncludes'), />spf\.new\.example\.net<\/textarea>/);
  assert.match(field(edit.text, 'masterUser.password'), /value=""[\s\S]*A value is stored and never shown[\s\S]*name="_clear" value="masterUser\.password"/);
  const list = await client.request('/platforms');
  assert.match(list.text, /<tr data-platform="old"><td><a href="\/panel\/platforms\/old\/edit">old<\/a><\/td><td>postfixadmin<\/td><td>mail platform<\/td>/);
});

test('edit: a secret left empty keeps the stored one, a new one replaces it, bad input changes nothing', async () => {
  const form = (over: Record<string, string>) => { const { plugin: _p, name: _n, ...rest } = oldHostForm(over); return rest; };
  let res = await post('/platforms/old', form({ 'masterUser.password': '', maxMailboxBytes: '5000000' }), '/platforms/old/edit');
  assert.equal(res.status, 303, res.text);
  assert.equal((await stored('old')).maxMailboxBytes, 5_000_000);
  assert.equal(((await stored('old')).masterUser as Record<string, string>).password, land.old.masterPassword, 'kept');

  res = await post('/platforms/old', form({ 'masterUser.password': '', 'imap.security': 'bogus' }), '/platforms/old/edit');
  assert.equal(res.status, 400);
  assert.match(field(res.text, 'imap.security'), /class="error"/);
  assert.equal((await stored('old')).maxMailboxBytes, 5_000_000, 'unchanged');

  res = await post('/platforms/old', form({ 'masterUser.password': NEW_SECRET }), '/platforms/old/edit');
  assert.equal(res.status, 303);
  assert.equal(((await stored('old')).masterUser as Record<string, string>).password, NEW_SECRET, 'replaced');
  assert.match((await panel.app.db('audit').where({ action: 'platform.update' }).orderBy('id', 'desc').first()).detail, /changed: .*masterUser\.password/);
  await post('/platforms/old', form({ maxMailboxBytes: '5000000' }), '/platforms/old/edit');
  assert.equal(((await stored('old')).masterUser as Record<string, string>).password, land.old.masterPassword);
});

test('test connection against the real Dovecot: login, capabilities, limits, and IMAP extensions such as IDLE', { timeout: 60_000 }, async () => {
  const res = await post('/platforms/old/test', { domain: DOMAIN, mailbox: '', password: '' }, '/platforms/old/edit');
  assert.equal(res.status, 200, res.text);
  assert.match(res.text, /Everything answered as expected\./);
  assert.match(res.text, /<tr data-ok="true"><th>Connection<\/th><td><span class="dot ok"><\/span> ok<\/td><\/tr>/);
  assert.match(res.text, new RegExp(`logged in as alice@${DOMAIN.replace('.', '\\.')}`));
  assert.match(res.text, /<tr data-capability="renameAccount"><th>renameAccount<\/th><td>yes<\/td><\/tr>/);
  assert.match(res.text, /Largest mailbox<\/th><td>5\.0 MB<\/td>/);
  const extensions = /<div class="chips" id="imap-extensions">([\s\S]*?)<\/div>/.exec(res.text)?.[1] ?? '';
  for (const cap of ['IDLE', 'UIDPLUS', 'CONDSTORE']) assert.match(extensions, new RegExp(`<span class="chip">${cap}</span>`));
  assert.match(res.text, /As announced after login/);
});

test('test connection against a server that does not answer shows the error code and message', { timeout: 60_000 }, async () => {
  const { plugin: _p, ...form } = oldHostForm({ name: 'gone', 'imap.port': String(await freePort()), skipTest: 'on' });
  const added = await post('/platforms', { plugin: 'postfixadmin', ...form }, '/platforms/new?plugin=postfixadmin');
  assert.equal(added.status, 303, added.text);
  const res = await post('/platforms/gone/test', { domain: DOMAIN }, '/platforms/gone/edit');
  assert.equal(res.status, 200);
  assert.match(res.text, /Something did not answer as expected/);
  assert.match(res.text, /<tr data-ok="false"><th>Connection<\/th><td><span class="dot error"><\/span> HOST_UNREACHABLE: Cannot reach 127\.0\.0\.1:\d+: connect ECONNREFUSED/);
});

test('remove asks first, is refused while a project uses the platform, and then goes', async () => {
  const [old, gone] = await Promise.all(['old', 'gone'].map(async (n) => (await panel.app.db('platforms').where({ name: n }).first()).id));
  await panel.app.db('projects').insert({ name: 'busy', source_platform_id: old, dest_platform_id: old, options: '{}', state: 'active', created_at: new Date().toISOString() });
  const refused = await post('/platforms/old/remove', {}, '/platforms/old/edit');
  assert.equal(refused.status, 409);
  assert.match(refused.text, /cannot be removed while projects use it:[\s\S]*<span class="chip">busy<\/span>/);
  assert.doesNotMatch(refused.text, /name="confirm"/);
  const forced = await post('/platforms/old/remove', { confirm: 'yes' }, '/platforms/old/edit');
  assert.equal(forced.status, 409);
  assert.ok(await panel.app.db('platforms').where({ id: old }).first(), 'still there');
  assert.match((await client.request('/platforms')).text, /<tr data-platform="old">[\s\S]*?<span class="chip">busy<\/span>/);

  const ask = await post('/platforms/gone/remove', {}, '/platforms/gone/edit');
  assert.equal(ask.status, 200);
  assert.match(ask.text, /Remove the platform gone \(postfixadmin\) and its stored credentials\?/);
  assert.match(ask.text, /<input type="hidden" name="confirm" value="yes">/);
  assert.ok(await panel.app.db('platforms').where({ id: gone }).first(), 'asking removes nothing');
  const done = await post('/platforms/gone/remove', { confirm: 'yes' }, '/platforms/gone/edit');
  assert.equal(done.status, 303);
  assert.equal(await panel.app.db('platforms').where({ id: gone }).first(), undefined);
  assert.match((await client.request('/platforms')).text, /Platform gone removed\./);
});

test('every form post without the CSRF token is refused with 403 and changes nothing', async () => {
  const before = await panel.app.db('platforms').select('name', 'config_sealed').orderBy('name');
  for (const [path, form] of [['/platforms', oldHostForm({ name: 'csrf' })], ['/platforms/old', oldHostForm({ 'masterUser.password': 'csrf-pw' })], ['/platforms/old/remove', { confirm: 'yes' }], ['/platforms/old/test', {}], ['/platforms/old/consumer-key', {}]] as const) {
    const res = await client.request(path, { method: 'POST', form });
    assert.equal(res.status, 403, path);
    assert.match(res.text, /did not come from this panel/);
  }
  assert.deepEqual(await panel.app.db('platforms').select('name', 'config_sealed').orderBy('name'), before);
});

test('OVHcloud: request a consumer key from the platform page, validate it, store it; pending and expired keys get a clear message', { timeout: 60_000 }, async () => {
  const application = ovh.state.addApplication();
  ovh.state.addService({ family: 'mxplan', name: 'mxplan-web-1', domains: [{ name: DOMAIN }], slots: 2 });
  const form = {
    plugin: 'ovhcloud', name: 'mx', region: 'ovh-eu', endpoint: ovh.url, applicationKey: application.key, applicationSecret: application.secret,
    offer: 'mxplan', service: 'mxplan-web-1', 'imap.host': '127.0.0.1', 'imap.port': String(land.new.port), 'imap.security': 'none', 'imap.tlsVerify': 'on', skipTest: 'on',
  };
  // Without a consumer key the connection test cannot pass: added untested, as the checkbox says.
  const noKey = await post('/platforms', { ...form, skipTest: '' }, '/platforms/new?plugin=ovhcloud');
  assert.equal(noKey.status, 400);
  assert.match(noKey.text, /missing consumerKey/);
  assert.equal((await post('/platforms', form, '/platforms/new?plugin=ovhcloud')).status, 303);
  let page = await client.request('/platforms/mx/edit');
  assert.match(page.text, /<section class="panel-box" id="consumer-key">/);
  assert.doesNotMatch(page.text, /id="validation-url"/);

  const asked = await post('/platforms/mx/consumer-key', {}, '/platforms/mx/edit');
  assert.equal(asked.status, 303);
  const pending = [...ovh.state.credentials.values()].find((c) => c.applicationKey === application.key)!;
  assert.equal(pending.state, 'pendingValidation');
  assert.ok(pending.rules.some((r) => r.method === 'POST' && r.path === '/email/mxplan/mxplan-web-1/account/*/changePassword'), 'the connector\'s rules');
  assert.ok(pending.rules.every((r) => r.path !== '/*'));
  page = await client.request('/platforms/mx/edit');
  assert.match(page.text, new RegExp(`Consumer key requested with ${pending.rules.length} access rules`));
  // Handlebars escapes '=' in the URL as &#x3D;.
  assert.ok(page.text.includes(`id="validation-url">${pending.validationUrl.replace(/=/g, '&#x3D;')}</a>`), 'the validation URL to open');
  assert.doesNotMatch(page.text, new RegExp(pending.consumerKey), 'the key itself is never shown');

  let confirm = await post('/platforms/mx/consumer-key/confirm', {}, '/platforms/mx/edit');
  assert.equal(confirm.status, 303);
  page = await client.request('/platforms/mx/edit');
  assert.match(page.text, /not validated yet: open the link, validate it, then confirm again/);
  assert.match(page.text, /id="validation-url"/, 'still waiting');
  assert.equal((await stored('mx')).consumerKey, undefined);

  ovh.state.validate(pending.consumerKey);
  confirm = await post('/platforms/mx/consumer-key/confirm', {}, '/platforms/mx/edit');
  page = await client.request('/platforms/mx/edit');
  assert.match(page.text, /The consumer key is validated and stored in this platform\./);
  assert.doesNotMatch(page.text, /id="validation-url"/);
  assert.equal((await stored('mx')).consumerKey, pending.consumerKey);
  assert.match(field(page.text, 'consumerKey'), /A value is stored/);
  assert.equal((await panel.app.db('audit').where({ action: 'platform.consumer-key.store', target: 'mx' }).first()).detail, 'changed: consumerKey');

  // With the stored key the platform's test goes through the signed API.
  const tested = await post('/platforms/mx/test', { domain: DOMAIN }, '/platforms/mx/edit');
  assert.match(tested.text, /<tr data-ok="true"><th>Connection<\/th>/);
  assert.match(tested.text, /Free account slots for example\.test<\/th><td>2<\/td>/);
  assert.match(tested.text, /Largest mailbox<\/th><td>5\.0 GB<\/td>/);

  // A key that expired before the admin confirmed: refused, not stored, and the page says to ask again.
  await post('/platforms/mx/consumer-key', {}, '/platforms/mx/edit');
  const second = [...ovh.state.credentials.values()].filter((c) => c.applicationKey === application.key).at(-1)!;
  assert.notEqual(second.consumerKey, pending.consumerKey);
  ovh.state.validate(second.consumerKey);
  ovh.state.expire(second.consumerKey);
  await post('/platforms/mx/consumer-key/confirm', {}, '/platforms/mx/edit');
  page = await client.request('/platforms/mx/edit');
  assert.match(page.text, /OVHcloud refuses this key: it expired or was refused\. Request a new one\./);
  assert.equal((await stored('mx')).consumerKey, pending.consumerKey, 'the working key stays');
  ovhSecrets.push(application.secret, pending.consumerKey, second.consumerKey);
});

test('a DNS provider through the pages: added from its form, tested on a zone it manages and one it does not', { timeout: 60_000 }, async () => {
  const form = { plugin: 'rfc2136', name: 'zone', server: `127.0.0.1:${land.dns.port}`, zones: `${DOMAIN}\n`, 'key.name': land.dns.tsig.name, 'key.algorithm': 'hmac-sha256', 'key.secret': land.dns.tsig.secret, timeoutMs: '5000', fudge: '300' };
  const page = await client.request('/platforms/new?plugin=rfc2136');
  assert.match(page.text, />Add<\/button>/, 'nothing to test before adding a DNS provider');
  assert.equal((await post('/platforms', form, '/platforms/new?plugin=rfc2136')).status, 303);
  ovhSecrets.push(land.dns.tsig.secret);
  assert.deepEqual((await stored('zone')).zones, [DOMAIN]);
  const edit = await client.request('/platforms/zone/edit');
  assert.match(edit.text, /<input type="text" name="zone">/);
  assert.doesNotMatch(edit.text, /name="mailbox"/, 'no mailbox to log in to on a DNS provider');
  let res = await post('/platforms/zone/test', { zone: DOMAIN }, '/platforms/zone/edit');
  assert.match(res.text, new RegExp(`<tr data-ok="true"><th>Zone ${DOMAIN.replace('.', '\\.')}</th><td><span class="dot ok"></span> managed by this provider`));
  res = await post('/platforms/zone/test', { zone: 'other.test' }, '/platforms/zone/edit');
  assert.match(res.text, /<tr data-ok="false"><th>Zone other\.test<\/th><td><span class="dot error"><\/span> not managed by this provider/);
  assert.match(res.text, /<p class="flash error" role="status" id="verdict">/);
});

test('the French pages', async () => {
  const fr = new RecordingClient(panel.url, { 'accept-language': 'fr' });
  assert.equal((await fr.login()).status, 303);
  const list = await fr.request('/platforms');
  assert.match(list.text, /Plateformes et fournisseurs DNS/);
  assert.match(list.text, /plateforme de messagerie/);
  const bad = await fr.request('/platforms', { form: { _csrf: await fr.token('/platforms/new?plugin=postfixadmin'), ...oldHostForm({ name: 'fr', 'imap.security': 'nope' }) } });
  assert.equal(bad.status, 400);
  assert.match(bad.text, /Certains champs ne sont pas valides/);
  assert.match(field(bad.text, 'imap.security'), /Option invalide/, 'zod\'s own message in French');
});

test('no page and no answer ever contained a stored secret', () => {
  assert.ok(answers.length > 40, `${answers.length} answers recorded`);
  const secrets = [land.old.masterPassword, NEW_SECRET, TYPED_SECRET, ...ovhSecrets];
  assert.equal(secrets.length, 7);
  // Handlebars escapes = ' " ` & < > in pages: a leak would show in that form too (a TSIG secret ends in =).
  const entities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#x27;', '`': '&#x60;', '=': '&#x3D;' };
  const htmlEscaped = (text: string) => text.replace(/[&<>"'`=]/g, (c) => entities[c]!);
  for (const secret of secrets) {
    const leaked = answers.findIndex((a) => a.includes(secret) || a.includes(htmlEscaped(secret)));
    assert.equal(leaked, -1, `secret found in answer #${leaked}`);
  }
});
