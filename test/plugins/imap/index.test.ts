import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { addDomain, addMailbox, startDovecot, type DovecotInstance } from '../../../server/devservers/dovecot.ts';
import { closeQuietly, openImap } from '../../../server/mail/imap.ts';
import { configFields, type ConfigField } from '../../../server/services/config-fields.ts';
import plugin from '../../../plugins/imap/index.ts';
import { tempDataDir } from '../../support/cli.ts';

let dovecot: DovecotInstance;
let dir: string;
let adminFile: string;

before(async () => {
  dovecot = await startDovecot();
  await addDomain(dovecot, 'example.test');
  await addMailbox(dovecot, 'alice@example.test', 'alice-pw');
  await addDomain(dovecot, 'hosting.example');
  await addMailbox(dovecot, 'bob.login@hosting.example', 'bob-pw');
  dir = tempDataDir();
  adminFile = path.join(dir, 'admin.pass');
  writeFileSync(adminFile, `${dovecot.masterPassword}\n`, { mode: 0o600 });
});

after(async () => { await dovecot?.stop(); });

const parse = (raw: unknown) => plugin.configSchema.safeParse(raw);
const issues = (raw: unknown) => { const r = parse(raw); return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`); };

test('config: host, port and security with defaults; plaintext only to loopback; one admin secret; provider ids; no unknown keys', () => {
  assert.deepEqual(parse({ host: 'imap.example.net' }).data, { host: 'imap.example.net', port: 993, security: 'tls', tlsVerify: true, allowPlaintext: false });
  assert.match(issues({ host: 'imap.example.net', security: 'none' }).join(), /security: security "none" sends passwords in clear/);
  assert.equal(parse({ host: 'imap.example.net', security: 'none', allowPlaintext: true }).success, true);
  assert.equal(parse({ host: '127.0.0.1', port: 143, security: 'none' }).success, true);
  assert.match(issues({ host: 'bad host!' }).join(), /host: not a valid host name/);
  assert.match(issues({ host: 'h.example', port: 70000 }).join(), /port/);
  assert.match(issues({ host: 'h.example', admin: { kind: 'master-user', user: 'a' } }).join(), /give exactly one of password, passwordFile, passwordEnv/);
  assert.match(issues({ host: 'h.example', admin: { kind: 'master-user', user: 'a', password: 'x', passwordFile: '/f' } }).join(), /give exactly one/);
  assert.match(issues({ host: 'h.example', admin: { kind: 'root', user: 'a', password: 'x' } }).join(), /admin/);
  assert.equal(parse({ host: 'h.example', admin: { kind: 'sasl-authzid', user: 'cyrus', passwordEnv: 'CYRUS_PW' } }).success, true);
  assert.deepEqual(parse({ host: 'h.example', admin: { kind: 'master-user', user: 'm', password: 'x' } }).data?.admin, { kind: 'master-user', user: 'm', separator: '*', password: 'x' });
  assert.equal(parse({ host: 'imap.gmail.com', provider: 'google' }).success, true);
  assert.match(issues({ host: 'imap.gmail.com', provider: 'gmail' }).join(), /provider/);
  assert.match(issues({ host: 'h.example', imap: {} }).join(), /Unrecognized key/);
  assert.match(issues({ host: 'h.example', expectedDns: { mx: [] } }).join(), /expectedDns\.mx/);
  const google = { kind: 'google-service-account', clientEmail: 'sa@p.iam.gserviceaccount.com', privateKey: '-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n' };
  assert.equal(parse({ host: 'imap.gmail.com', provider: 'google', oauth2: google }).success, true);
  assert.match(issues({ host: 'imap.gmail.com', oauth2: google, admin: { kind: 'master-user', user: 'm', password: 'x' } }).join(), /oauth2: give an admin login or oauth2, not both/);
  assert.match(issues({ host: 'imap.gmail.com', oauth2: { ...google, privateKey: 'not a key' } }).join(), /oauth2\.privateKey: must be a PEM private key/);
});

test('config: the panel form is generated from the schema, with the admin password as a write-only secret', () => {
  const fields = configFields(plugin.configSchema);
  const byKey = new Map(fields.map((f) => [f.key, f]));
  assert.deepEqual([...byKey.keys()].slice(0, 3), ['host', 'port', 'security']);
  const admin = byKey.get('admin');
  assert.equal(admin?.kind, 'variant');
  if (admin?.kind !== 'variant') return;
  assert.deepEqual(admin.variants.map((v) => v.value), ['master-user', 'sasl-authzid']);
  for (const variant of admin.variants) {
    const password: ConfigField | undefined = [...admin.common, ...variant.fields].find((f) => f.key === 'password');
    assert.equal(password?.kind === 'leaf' && password.type, 'secret', `${variant.value}: password is secret`);
  }
  const oauth2 = byKey.get('oauth2');
  assert.equal(oauth2?.kind, 'variant');
  if (oauth2?.kind === 'variant') {
    const secrets = oauth2.variants.flatMap((v) => [...oauth2.common, ...v.fields].filter((f) => f.kind === 'leaf' && f.type === 'secret').map((f) => `${v.value}.${f.key}`));
    assert.deepEqual(secrets.sort(), ['google-service-account.privateKey', 'microsoft-client-credentials.certificateKey', 'microsoft-client-credentials.clientSecret']);
  }
  assert.equal(byKey.get('provider')?.kind === 'leaf' && (byKey.get('provider') as { options?: string[] }).options?.join(), 'google,microsoft365,ovhcloud,zoho,icloud');
});

test('capabilities: nothing but logins; masterUser only with an admin login', () => {
  const bare = plugin.platform!(plugin.configSchema.parse({ host: 'imap.example.net', maxMessageBytes: 35_000_000 }), { log: undefined as never });
  assert.deepEqual(bare.capabilities, { attachDomain: false, renameAccount: false, createAccount: false, resetAccount: false, listAccounts: false, masterUser: false, maxMailboxBytes: undefined, maxMessageBytes: 35_000_000, provider: undefined });
  const admin = plugin.platform!(plugin.configSchema.parse({ host: 'imap.example.net', admin: { kind: 'master-user', user: 'm', password: 'x' } }), { log: undefined as never });
  assert.equal(admin.capabilities.masterUser, true);
});

function connector(extra: Record<string, unknown> = {}) {
  return plugin.platform!(plugin.configSchema.parse({ host: dovecot.host, port: dovecot.port, security: 'none', ...extra }), { log: undefined as never });
}

async function logsIn(endpoint: Parameters<typeof openImap>[0]): Promise<boolean> {
  try {
    await closeQuietly(await openImap(endpoint));
    return true;
  } catch {
    return false;
  }
}

test('logins against a real Dovecot: own password and a login other than the address, master user, SASL authorisation identity', { timeout: 60_000 }, async () => {
  const own = connector();
  assert.equal(await logsIn(await own.imapEndpoint('alice@example.test', 'alice-pw')), true);
  assert.equal(await logsIn(await own.imapEndpoint('bob@example.test', 'bob-pw', 'bob.login@hosting.example')), true, 'the CSV login, not the address');
  assert.equal(await logsIn(await own.imapEndpoint('alice@example.test', 'wrong')), false);
  await assert.rejects(own.imapEndpoint('alice@example.test'), /no admin login configured and no password known for alice@example\.test/);
  assert.deepEqual(await own.getAccount('anyone@example.test'), { address: 'anyone@example.test', active: true, quotaBytes: null }, 'without an admin login the account is assumed; its login decides');

  for (const kind of ['master-user', 'sasl-authzid'] as const) {
    const admin = connector({ admin: { kind, user: dovecot.masterUser, passwordFile: adminFile } });
    const endpoint = await admin.imapEndpoint('alice@example.test');
    if (kind === 'master-user') assert.deepEqual(endpoint.auth, { user: `alice@example.test*${dovecot.masterUser}`, pass: dovecot.masterPassword });
    else assert.deepEqual(endpoint.auth, { user: dovecot.masterUser, pass: dovecot.masterPassword, authzid: 'alice@example.test' });
    assert.equal(await logsIn(endpoint), true, `${kind}: logs in as alice`);
    assert.equal(await logsIn(await admin.imapEndpoint('bob@example.test', undefined, 'bob.login@hosting.example')), true, `${kind}: as bob's login`);
    assert.ok(await admin.getAccount('alice@example.test'), `${kind}: alice exists`);
    assert.equal(await admin.getAccount('nobody@example.test'), null, `${kind}: an account the admin cannot log in as does not exist`);
  }
});

test('testConnection reads the greeting; a port that does not answer is HOST_UNREACHABLE; the operations it cannot do say so', async () => {
  await connector().testConnection();
  const closed = plugin.platform!(plugin.configSchema.parse({ host: '127.0.0.1', port: 1, security: 'none' }), { log: undefined as never });
  await assert.rejects(closed.testConnection(), (err: Error & { code?: string }) => err.code === 'HOST_UNREACHABLE');
  await assert.rejects(connector().listAccounts('example.test'), /cannot list accounts/);
  await assert.rejects(connector().renameAccount('a@example.test', 'b@example.test'), /PLATFORM_CANNOT|cannot rename an account/);
  assert.equal(await connector().domainExists('example.test'), true);
  await assert.rejects(connector().mailHost('example.test'), /no mailHost and no expectedDns\.mx/);
  assert.equal(await connector({ expectedDns: { mx: [{ priority: 20, exchange: 'mx2.example.net' }, { priority: 10, exchange: 'mx1.example.net' }] } }).mailHost('example.test'), 'mx1.example.net');
  assert.deepEqual(await connector().expectedDns('example.test'), { mx: [], spfIncludes: [] });
  assert.equal(connector().accountRealm!(), `imap:127.0.0.1:${dovecot.port}`);
  assert.equal(connector({ provider: 'google' }).accountRealm!(), 'provider:google');
});
