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
let csrfToken: string;
const answers: string[] = [];
const secrets: string[] = ['Api-New-Master-Pw-3'];

async function api(method: string, path: string, json?: unknown, withToken = true): Promise<{ status: number; body: any }> {
  const res = await client.request(`/api${path}`, { method, ...(json !== undefined && { json }), headers: withToken ? { 'x-csrf-token': csrfToken } : {} });
  answers.push(res.text);
  return { status: res.status, body: res.text ? JSON.parse(res.text) : null };
}

function config(port = land.old.port, password: string | undefined = land.old.masterPassword) {
  return {
    database: { client: 'sqlite3', filename: land.old.dbPath },
    imap: { host: '127.0.0.1', port, security: 'none' },
    masterUser: { user: land.old.masterUser, ...(password !== undefined && { password }) },
    mailHost: NEW_MX,
    expectedDns: { mx: [{ priority: 10, exchange: NEW_MX }] },
  };
}

async function stored(name: string) {
  return storedConfig(panel.app, await panel.app.db('platforms').where({ name }).first());
}

before(async () => {
  [land, ovh, panel] = await Promise.all([startLandscape({ accounts: [{ address: `bob@${DOMAIN}`, password: 'bob-pw-12' }] }), startFakeOvh({ taskDelayMs: 50 }), startPanel()]);
  secrets.push(land.old.masterPassword);
  client = new Client(panel.url);
  assert.equal((await client.login()).status, 303);
  csrfToken = JSON.parse((await client.request('/api/session')).text).csrfToken;
});
after(async () => {
  await panel?.close();
  await ovh?.stop();
  await land?.stop();
});

test('GET /api/plugins: ids, descriptions, kinds and the form description', async () => {
  const { status, body } = await api('GET', '/plugins');
  assert.equal(status, 200);
  assert.deepEqual(body.map((p: { id: string; kinds: string[] }) => [p.id, p.kinds]), [['files', ['platform']], ['imap', ['platform']], ['ovhcloud', ['platform', 'dns']], ['postfixadmin', ['platform']], ['rfc2136', ['dns']]]);
  const pfa = body.find((p: { id: string }) => p.id === 'postfixadmin');
  assert.match(pfa.description, /PostfixAdmin/);
  const database = pfa.fields.find((f: { path: string }) => f.path === 'database');
  assert.equal(database.kind, 'variant');
  assert.equal(database.discriminator, 'client');
  const imap = pfa.fields.find((f: { path: string }) => f.path === 'imap');
  assert.deepEqual(imap.fields.find((f: { key: string }) => f.key === 'security'), { kind: 'leaf', type: 'select', key: 'security', path: 'imap.security', required: true, options: ['tls', 'starttls', 'none'] });
  assert.equal(pfa.fields.find((f: { path: string }) => f.path === 'masterUser').fields.find((f: { key: string }) => f.key === 'password').type, 'secret');
});

test('POST /api/platforms: validated, connection tested, stored; refusals carry a code (and the fields)', { timeout: 60_000 }, async () => {
  const bad = await api('POST', '/platforms', { name: 'old', plugin: 'postfixadmin', config: { ...config(), imap: { host: '127.0.0.1', port: 'x', security: 'none' } } });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, 'CONFIG_INVALID');
  assert.deepEqual(bad.body.error.fields.map((f: { path: string }) => f.path), ['imap.port']);
  const down = await api('POST', '/platforms', { name: 'old', plugin: 'postfixadmin', config: config(await freePort()) });
  assert.equal(down.status, 422);
  assert.equal(down.body.error.code, 'HOST_UNREACHABLE');
  assert.equal((await api('POST', '/platforms', { name: 'old', plugin: 'nope', config: {} })).status, 404);
  const noCsrf = await api('POST', '/platforms', { name: 'old', plugin: 'postfixadmin', config: config() }, false);
  assert.equal(noCsrf.status, 403);
  assert.equal(noCsrf.body.error.code, 'CSRF_INVALID');
  assert.deepEqual((await api('GET', '/platforms')).body, [], 'nothing stored so far');

  const added = await api('POST', '/platforms', { name: 'old', plugin: 'postfixadmin', config: config() });
  assert.equal(added.status, 201, JSON.stringify(added.body));
  assert.deepEqual({ ...added.body, createdAt: undefined }, { name: 'old', plugin: 'postfixadmin', kinds: ['platform'], createdAt: undefined, usedBy: [] });
  assert.equal((await api('POST', '/platforms', { name: 'old', plugin: 'postfixadmin', config: config() })).body.error.code, 'PLATFORM_EXISTS');
  const details = await api('GET', '/platforms/old');
  assert.deepEqual(details.body.secrets, ['masterUser.password']);
  assert.equal(details.body.config.masterUser.password, undefined);
  assert.equal(details.body.config.imap.port, land.old.port);
  assert.equal((await api('GET', '/platforms/nope')).status, 404);
});

test('PUT /api/platforms/:name: a secret left out is kept, a new one replaces it, clearSecrets forgets it', async () => {
  let res = await api('PUT', '/platforms/old', { config: { ...config(land.old.port, undefined), maxMailboxBytes: 1_000_000 } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(((await stored('old')).masterUser as Record<string, string>).password, land.old.masterPassword);
  assert.equal((await stored('old')).maxMailboxBytes, 1_000_000);
  res = await api('PUT', '/platforms/old', { config: { ...config(), mailHost: 'not a host!' } });
  assert.equal(res.status, 400);
  assert.deepEqual(res.body.error.fields.map((f: { path: string }) => f.path), ['mailHost']);
  res = await api('PUT', '/platforms/old', { config: config(land.old.port, secrets[0]) });
  assert.equal(res.status, 200);
  assert.equal(((await stored('old')).masterUser as Record<string, string>).password, secrets[0]);
  res = await api('PUT', '/platforms/old', { config: { ...config(land.old.port, undefined), masterUser: { user: land.old.masterUser, passwordEnv: 'CUTOVER_PLATFORM_X_MASTER' } }, clearSecrets: ['masterUser.password'] });
  assert.equal(res.status, 200);
  assert.deepEqual((await stored('old')).masterUser, { user: land.old.masterUser, separator: '*', passwordEnv: 'CUTOVER_PLATFORM_X_MASTER' });
  res = await api('PUT', '/platforms/old', { config: config() });
  assert.equal(res.status, 200);
});

test('POST /api/platforms/:name/test: the report with the IMAP extensions; a dead server is ok: false with its code', { timeout: 60_000 }, async () => {
  const res = await api('POST', '/platforms/old/test', { domain: DOMAIN });
  assert.equal(res.status, 200);
  assert.equal(res.body.ok, true, JSON.stringify(res.body));
  assert.deepEqual(res.body.connection, { ok: true, value: null });
  assert.equal(res.body.capabilities.createAccount, true);
  assert.equal(res.body.imap.account, `bob@${DOMAIN}`);
  assert.equal(res.body.imap.result.value.stage, 'authenticated');
  assert.ok(res.body.imap.result.value.capabilities.includes('IDLE'));
  assert.deepEqual(res.body.domain.accounts, { ok: true, value: 1 });

  assert.equal((await api('POST', '/platforms', { name: 'dead', plugin: 'postfixadmin', config: config(await freePort()), skipTest: true })).status, 201);
  const dead = await api('POST', '/platforms/dead/test', {});
  assert.equal(dead.body.ok, false);
  assert.equal(dead.body.connection.error.code, 'HOST_UNREACHABLE');
  assert.match(dead.body.connection.error.message, /Cannot reach 127\.0\.0\.1:\d+/);
  assert.equal((await api('POST', '/platforms/dead/test', { domain: 'not a domain' })).status, 400);
});

test('DELETE /api/platforms/:name: 409 while a project uses it, 204 once not, 404 when unknown', async () => {
  const old = (await panel.app.db('platforms').where({ name: 'old' }).first()).id;
  await panel.app.db('projects').insert({ name: 'uses-old', source_platform_id: old, dest_platform_id: old, options: JSON.stringify({ dnsProvider: 'dead' }), state: 'active', created_at: new Date().toISOString() });
  const refused = await api('DELETE', '/platforms/dead');
  assert.equal(refused.status, 409);
  assert.equal(refused.body.error.code, 'PLATFORM_IN_USE');
  assert.match(refused.body.error.message, /used by project\(s\) uses-old/);
  assert.deepEqual((await api('GET', '/platforms')).body.map((p: { name: string; usedBy: string[] }) => [p.name, p.usedBy]), [['dead', ['uses-old']], ['old', ['uses-old']]]);
  assert.equal((await api('DELETE', '/platforms/dead', undefined, false)).status, 403);
  await panel.app.db('projects').where({ name: 'uses-old' }).delete();
  assert.equal((await api('DELETE', '/platforms/dead')).status, 204);
  assert.equal((await api('DELETE', '/platforms/dead')).status, 404);
});

test('OVHcloud consumer key over the API: a sealed ticket, confirm refused while pending, stored once validated', { timeout: 60_000 }, async () => {
  const application = ovh.state.addApplication();
  secrets.push(application.secret);
  const ovhConfig = { endpoint: ovh.url, applicationKey: application.key, applicationSecret: application.secret, offer: 'mxplan', service: 'mxplan-api-1' };
  assert.equal((await api('POST', '/platforms', { name: 'mx', plugin: 'ovhcloud', config: ovhConfig, skipTest: true })).status, 201);
  const asked = await api('POST', '/platforms/mx/consumer-key', {});
  assert.equal(asked.status, 200);
  const credential = [...ovh.state.credentials.values()].find((c) => c.applicationKey === application.key)!;
  secrets.push(credential.consumerKey);
  assert.equal(asked.body.validationUrl, credential.validationUrl);
  assert.equal(asked.body.state, 'pendingValidation');
  assert.deepEqual(asked.body.rules, credential.rules);
  assert.equal(typeof asked.body.ticket, 'string');

  const early = await api('POST', '/platforms/mx/consumer-key/confirm', { ticket: asked.body.ticket });
  assert.equal(early.status, 409);
  assert.deepEqual(early.body, { stored: false, state: 'pendingValidation' });
  assert.equal((await api('POST', '/platforms/mx/consumer-key/confirm', { ticket: 'forged' })).status, 400);
  assert.equal((await api('POST', '/platforms/old/consumer-key/confirm', { ticket: asked.body.ticket })).status, 400, 'bound to its platform');
  assert.equal((await api('POST', '/platforms/old/consumer-key', {})).body.error.code, 'INPUT_INVALID', 'not an OVHcloud platform');

  ovh.state.validate(credential.consumerKey);
  const done = await api('POST', '/platforms/mx/consumer-key/confirm', { ticket: asked.body.ticket });
  assert.equal(done.status, 200);
  assert.deepEqual(done.body, { stored: true, state: 'validated', expiration: null, missing: [] });
  assert.equal((await stored('mx')).consumerKey, credential.consumerKey);
  assert.deepEqual((await api('GET', '/platforms/mx')).body.secrets, ['applicationSecret', 'consumerKey']);
});

test('no API answer ever contained a secret', () => {
  assert.ok(answers.length > 30);
  assert.equal(secrets.length, 4);
  for (const secret of secrets) assert.equal(answers.findIndex((a) => a.includes(secret)), -1, `a secret leaked (${secrets.indexOf(secret)})`);
});
