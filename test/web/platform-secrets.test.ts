import assert from 'node:assert/strict';
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { addPlatform, storedConfig } from '../../server/services/platforms.ts';
import { Client, startPanel } from './client.ts';

// Write-only secrets stay with the destination they were entered for, and the panel and the API
// cannot make the server read a file of their choosing. Configs are only validated here (skipTest):
// what matters is what gets stored, since every later connection uses the stored config.
const secretsDir = mkdtempSync(path.join(os.tmpdir(), 'cutover-secrets-'));
const outside = mkdtempSync(path.join(os.tmpdir(), 'cutover-outside-'));
writeFileSync(path.join(secretsDir, 'master.pass'), 'in-the-secrets-dir\n', { mode: 0o600 });
writeFileSync(path.join(outside, 'private.key'), 'not for the panel\n', { mode: 0o600 });
symlinkSync(path.join(outside, 'private.key'), path.join(secretsDir, 'escape.pass'));

let panel: Awaited<ReturnType<typeof startPanel>>;
let client: Client;
let csrfToken: string;

const MASTER = 'Kept-Master-Secret-77';
function config(overrides: { host?: string; port?: number; security?: string; user?: string; master?: Record<string, string> } = {}) {
  return {
    database: { client: 'sqlite3', filename: path.join(outside, 'pfa.sqlite') },
    imap: { host: overrides.host ?? '127.0.0.1', port: overrides.port ?? 1143, security: overrides.security ?? 'none' },
    masterUser: { user: overrides.user ?? 'master', ...(overrides.master ?? {}) },
    mailHost: 'mx.new.example.net',
    expectedDns: { mx: [{ priority: 10, exchange: 'mx.new.example.net' }] },
  };
}

async function api(method: string, url: string, json?: unknown): Promise<{ status: number; body: any }> {
  const res = await client.request(`/api${url}`, { method, ...(json !== undefined && { json }), headers: { 'x-csrf-token': csrfToken } });
  assert.ok(!res.text.includes(MASTER), 'no answer carries the secret');
  return { status: res.status, body: res.text ? JSON.parse(res.text) : null };
}

const stored = async (name: string) => storedConfig(panel.app, await panel.app.db('platforms').where({ name }).first()) as ReturnType<typeof config> & { masterUser: Record<string, string> };
const fieldPaths = (body: any) => (body.error.fields ?? []).map((f: { path: string }) => f.path);

before(async () => {
  panel = await startPanel({}, { CUTOVER_SECRETS_DIR: secretsDir });
  client = new Client(panel.url);
  assert.equal((await client.login()).status, 303);
  csrfToken = JSON.parse((await client.request('/api/session')).text).csrfToken;
  assert.equal((await api('POST', '/platforms', { name: 'old', plugin: 'postfixadmin', config: config({ master: { password: MASTER } }), skipTest: true })).status, 201);
});
after(async () => { await panel?.close(); });

test('API: changing host, port, user or security with the secret left out is refused, names the secret, and stores nothing', async () => {
  for (const change of [{ host: 'capture.example.net', security: 'tls' }, { port: 2143 }, { user: 'other' }, { security: 'starttls' }]) {
    const res = await api('PUT', '/platforms/old', { config: config(change) });
    assert.equal(res.status, 400, JSON.stringify(change));
    assert.equal(res.body.error.code, 'CONFIG_INVALID');
    assert.deepEqual(fieldPaths(res.body), ['masterUser.password'], JSON.stringify(change));
    assert.match(res.body.error.fields[0].message, /changed.*enter (it|this secret) again/i);
  }
  const kept = await stored('old');
  assert.deepEqual([kept.imap.host, kept.imap.port, kept.imap.security, kept.masterUser.user, kept.masterUser.password], ['127.0.0.1', 1143, 'none', 'master', MASTER]);

  assert.equal((await api('PUT', '/platforms/old', { config: { ...config(), maxMailboxBytes: 5_000 } })).status, 200, 'the same destination keeps the secret');
  assert.equal((await stored('old')).masterUser.password, MASTER);
  const moved = await api('PUT', '/platforms/old', { config: config({ port: 2143, master: { password: 'Re-Entered-Secret-1' } }) });
  assert.equal(moved.status, 200, 'with the secret given again, the destination may change');
  assert.deepEqual([(await stored('old')).imap.port, (await stored('old')).masterUser.password], [2143, 'Re-Entered-Secret-1']);
  await api('PUT', '/platforms/old', { config: config({ master: { password: MASTER } }) });
});

test('panel form: a new port with the secret field empty is refused next to the secret field', async () => {
  const form = {
    'database.client': 'sqlite3', 'database.filename': path.join(outside, 'pfa.sqlite'),
    'imap.host': '127.0.0.1', 'imap.port': '2143', 'imap.security': 'none', 'imap.tlsVerify': 'on', 'dav.tlsVerify': 'on', 'sieve.tlsVerify': 'on',
    'masterUser.user': 'master', 'masterUser.separator': '*', 'masterUser.password': '',
    mailHost: 'mx.new.example.net', 'expectedDns.mx': JSON.stringify([{ priority: 10, exchange: 'mx.new.example.net' }]), relayTable: 'cutover_domain_relay',
  };
  const res = await client.request('/platforms/old', { form: { ...form, _csrf: await client.token('/platforms/old/edit') } });
  assert.equal(res.status, 400, res.text.slice(0, 400));
  assert.match(res.text, /changed.*enter (it|this secret) again/i);
  assert.equal((await stored('old')).imap.port, 1143);
  assert.equal((await stored('old')).masterUser.password, MASTER);
});

test('API: a file named in a config is refused unless it is inside CUTOVER_SECRETS_DIR (no way out by .. or a symlink)', async () => {
  for (const file of ['/etc/shadow', path.join(panel.app.config.dataDir, 'secret.key'), path.join(secretsDir, '..', path.basename(outside), 'private.key'), path.join(secretsDir, 'escape.pass'), path.join(secretsDir, 'missing.pass')]) {
    const res = await api('POST', '/platforms', { name: 'grab', plugin: 'postfixadmin', config: config({ master: { passwordFile: file } }), skipTest: true });
    assert.equal(res.status, 400, file);
    assert.deepEqual(fieldPaths(res.body), ['masterUser.passwordFile'], file);
    assert.match(res.body.error.fields[0].message, /CUTOVER_SECRETS_DIR/);
  }
  const ca = await api('PUT', '/platforms/old', { config: { ...config({ master: { password: MASTER } }), imap: { host: '127.0.0.1', port: 1143, security: 'none', caFile: '/etc/shadow' } } });
  assert.equal(ca.status, 400, 'every …File key, a CA file included');
  assert.deepEqual(fieldPaths(ca.body), ['imap.caFile']);
  assert.equal((await panel.app.db('platforms').where({ name: 'grab' }).first()), undefined);

  const inside = await api('POST', '/platforms', { name: 'inside', plugin: 'postfixadmin', config: config({ master: { passwordFile: path.join(secretsDir, 'master.pass') } }), skipTest: true });
  assert.equal(inside.status, 201, JSON.stringify(inside.body));
});

test('API: an environment variable named in a config must be one exported for platforms (CUTOVER_PLATFORM_…), never cutover\'s own key', async () => {
  for (const name of ['CUTOVER_SECRET_KEY', 'DATABASE_URL', 'HOME', 'cutover_platform_lower']) {
    const res = await api('POST', '/platforms', { name: 'grab-env', plugin: 'postfixadmin', config: config({ master: { passwordEnv: name } }), skipTest: true });
    assert.equal(res.status, 400, name);
    assert.deepEqual(fieldPaths(res.body), ['masterUser.passwordEnv'], name);
    assert.match(res.body.error.fields[0].message, /CUTOVER_PLATFORM_/);
  }
  assert.equal((await panel.app.db('platforms').where({ name: 'grab-env' }).first()), undefined);
  const allowed = await api('POST', '/platforms', { name: 'env-ok', plugin: 'postfixadmin', config: config({ master: { passwordEnv: 'CUTOVER_PLATFORM_OLD_MASTER' } }), skipTest: true });
  assert.equal(allowed.status, 201, JSON.stringify(allowed.body));
});

test('the CLI may name any file; the panel may keep it only while the destination stays the same', async () => {
  const file = path.join(outside, 'private.key');
  await addPlatform(panel.app, { name: 'cli', plugin: 'postfixadmin', config: config({ master: { passwordFile: file } }), skipTest: true, from: 'cli' }, 'cli:test');
  assert.equal((await stored('cli')).masterUser.passwordFile, file);
  assert.equal((await api('PUT', '/platforms/cli', { config: { ...config({ master: { passwordFile: file } }), maxMailboxBytes: 7_000 } })).status, 200);
  const moved = await api('PUT', '/platforms/cli', { config: config({ host: 'capture.example.net', security: 'tls', master: { passwordFile: file } }) });
  assert.equal(moved.status, 400);
  assert.deepEqual(fieldPaths(moved.body), ['masterUser.passwordFile']);
  assert.equal((await stored('cli')).imap.host, '127.0.0.1');
  await assert.rejects(addPlatform(panel.app, { name: 'web', plugin: 'postfixadmin', config: config({ master: { passwordFile: file } }), skipTest: true }, 'web:root'), /CUTOVER_SECRETS_DIR/, 'a caller that does not say it is the CLI is the panel');
});
