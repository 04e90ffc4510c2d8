import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { openContext, type AppContext } from '../../server/context.ts';
import { freePort } from '../../server/devservers/ports.ts';
import { CutoverError } from '../../server/errors.ts';
import { allLeaves, configFields, secretPaths } from '../../server/services/config-fields.ts';
import { testPlatform } from '../../server/services/platform-test.ts';
import { ConfigInvalidError } from '../../server/services/plugin-config.ts';
import { addPlatform, listPlatformSummaries, platformDetails, removePlatform, storedConfig, updatePlatform } from '../../server/services/platforms.ts';
import { cutover, tempDataDir } from '../support/cli.ts';
import { DOMAIN, NEW_MX, OLD_MX, startLandscape, writePlatformConfig, type Landscape } from '../support/platforms.ts';

let land: Landscape;
let app: AppContext;
const ACTOR = 'test:admin';

/** A postfixadmin config with the master password inline, so the secret lives in the stored config. */
function pfaConfig(port = land.old.port, password = land.old.masterPassword) {
  return {
    database: { client: 'sqlite3', filename: land.old.dbPath },
    imap: { host: '127.0.0.1', port, security: 'none' },
    masterUser: { user: land.old.masterUser, password },
    mailHost: NEW_MX,
    expectedDns: { mx: [{ priority: 10, exchange: NEW_MX }] },
  };
}

async function auditText(): Promise<string> {
  return JSON.stringify(await app.db('audit').select());
}

before(async () => {
  land = await startLandscape({ accounts: [{ address: `alice@${DOMAIN}`, password: 'alice-pw-1' }] });
  app = await openContext({ CUTOVER_DATA_DIR: tempDataDir(), CUTOVER_LOG_LEVEL: 'silent' });
});
after(async () => {
  await app?.close();
  await land?.stop();
});

test('every field that holds a password, secret or consumer key is marked secret in the three plugins', () => {
  for (const id of ['postfixadmin', 'ovhcloud', 'rfc2136']) {
    const fields = configFields(app.plugins.get(id).configSchema);
    const named = allLeaves(fields).filter((l) => /(password|secret|consumerKey)$/i.test(l.key)).map((l) => l.path);
    assert.ok(named.length > 0, id);
    for (const path of named) assert.ok(secretPaths(fields).includes(path), `${id}: ${path} should be secret`);
  }
  const pfa = configFields(app.plugins.get('postfixadmin').configSchema);
  const database = pfa.find((f) => f.path === 'database');
  assert.equal(database?.kind, 'variant');
  assert.deepEqual(database?.kind === 'variant' && database.variants.map((v) => v.value), ['sqlite3', 'pg']);
  assert.ok(secretPaths(pfa).includes('database.connection'), 'a PostgreSQL URL carries a password');
});

test('add validates, tests the connection before storing, and audits without the secret', async () => {
  const bad = { ...pfaConfig(), imap: { host: '127.0.0.1', port: 'imap', security: 'none' } };
  await assert.rejects(addPlatform(app, { name: 'bad', plugin: 'postfixadmin', config: bad }, ACTOR), (err: unknown) => {
    assert.ok(err instanceof ConfigInvalidError);
    assert.deepEqual(err.issues.map((i) => i.path), ['imap.port']);
    assert.match(err.message, /Invalid configuration for plugin postfixadmin: imap\.port: /);
    return true;
  });
  const closed = await freePort();
  await assert.rejects(addPlatform(app, { name: 'down', plugin: 'postfixadmin', config: pfaConfig(closed) }, ACTOR), (err: unknown) => err instanceof CutoverError && err.code === 'HOST_UNREACHABLE');
  await assert.rejects(addPlatform(app, { name: 'bad name!', plugin: 'postfixadmin', config: pfaConfig() }, ACTOR), /not a valid platform name/);
  assert.deepEqual(await listPlatformSummaries(app), [], 'nothing stored');

  const added = await addPlatform(app, { name: 'old', plugin: 'postfixadmin', config: pfaConfig() }, ACTOR);
  assert.deepEqual({ name: added.name, plugin: added.plugin, kinds: added.kinds, usedBy: added.usedBy }, { name: 'old', plugin: 'postfixadmin', kinds: ['platform'], usedBy: [] });
  await assert.rejects(addPlatform(app, { name: 'old', plugin: 'postfixadmin', config: pfaConfig() }, ACTOR), (err: unknown) => err instanceof CutoverError && err.code === 'PLATFORM_EXISTS');
  const details = await platformDetails(app, 'old');
  assert.deepEqual(details.secrets, ['masterUser.password']);
  assert.equal((details.config.masterUser as Record<string, unknown>).password, undefined, 'details never carry the secret');
  assert.equal((details.config.imap as Record<string, unknown>).tlsVerify, true, 'stored as parsed, defaults included');
  const audit = await app.db('audit').where({ action: 'platform.add', target: 'old' }).first();
  assert.equal(audit.actor, ACTOR);
  assert.doesNotMatch(await auditText(), new RegExp(land.old.masterPassword));
});

test('edit re-validates; an empty secret keeps the stored one, a new one replaces it, clearSecrets forgets it', async () => {
  const withoutPassword = { ...pfaConfig(), masterUser: { user: land.old.masterUser, password: '' }, maxMailboxBytes: 5_000_000 };
  await updatePlatform(app, 'old', { config: withoutPassword }, ACTOR);
  let row = await app.db('platforms').where({ name: 'old' }).first();
  let stored = storedConfig(app, row);
  assert.equal((stored.masterUser as Record<string, unknown>).password, land.old.masterPassword, 'kept');
  assert.equal(stored.maxMailboxBytes, 5_000_000);
  const audit = await app.db('audit').where({ action: 'platform.update' }).orderBy('id', 'desc').first();
  assert.equal(audit.detail, 'changed: maxMailboxBytes');

  await assert.rejects(updatePlatform(app, 'old', { config: { ...withoutPassword, imap: { host: 'not a host', port: 143, security: 'none' } } }, ACTOR), (err: unknown) => {
    assert.ok(err instanceof ConfigInvalidError);
    assert.ok(err.issues.some((i) => i.path === 'imap.host' && /not a valid host name/.test(i.message)), JSON.stringify(err.issues));
    return true;
  });

  await updatePlatform(app, 'old', { config: pfaConfig(land.old.port, 'a-new-master-password') }, ACTOR);
  row = await app.db('platforms').where({ name: 'old' }).first();
  stored = storedConfig(app, row);
  assert.equal((stored.masterUser as Record<string, unknown>).password, 'a-new-master-password', 'replaced');
  assert.equal(stored.maxMailboxBytes, undefined, 'a field left out is gone');
  assert.match((await app.db('audit').where({ action: 'platform.update' }).orderBy('id', 'desc').first()).detail, /masterUser\.password/, 'the field is named, never its value');

  // Forgetting the inline password and naming an environment variable instead.
  const viaEnv = { ...pfaConfig(), masterUser: { user: land.old.masterUser, passwordEnv: 'CUTOVER_PLATFORM_TEST_MASTER' } };
  await assert.rejects(updatePlatform(app, 'old', { config: viaEnv }, ACTOR), /give exactly one of password, passwordFile, passwordEnv/, 'kept password + env: refused');
  await updatePlatform(app, 'old', { config: viaEnv, clearSecrets: ['masterUser.password'] }, ACTOR);
  stored = storedConfig(app, await app.db('platforms').where({ name: 'old' }).first());
  assert.deepEqual(stored.masterUser, { user: land.old.masterUser, separator: '*', passwordEnv: 'CUTOVER_PLATFORM_TEST_MASTER' });

  await updatePlatform(app, 'old', { config: pfaConfig() }, ACTOR);
  assert.doesNotMatch(await auditText(), new RegExp(`a-new-master-password|${land.old.masterPassword}`));
});

test('the test reports the connection, the capabilities, the limits and the IMAP extensions after login (IDLE among them)', { timeout: 60_000 }, async () => {
  const report = await testPlatform(app, 'old', { domain: DOMAIN }, ACTOR);
  assert.equal(report.ok, true, JSON.stringify(report));
  assert.deepEqual(report.connection, { ok: true, value: null });
  assert.equal(report.capabilities?.renameAccount, true);
  assert.equal(report.capabilities?.masterUser, true);
  assert.deepEqual(report.domain?.exists, { ok: true, value: true });
  assert.deepEqual(report.domain?.accounts, { ok: true, value: 1 });
  assert.equal(report.imap?.account, `alice@${DOMAIN}`, 'the first account, through the master user');
  assert.ok(report.imap?.result.ok);
  assert.equal(report.imap.result.value.stage, 'authenticated');
  for (const cap of ['IDLE', 'UIDPLUS', 'MOVE', 'CONDSTORE']) assert.ok(report.imap.result.value.capabilities.includes(cap), `${cap} in ${report.imap.result.value.capabilities}`);

  const greeting = await testPlatform(app, 'old', {}, ACTOR);
  assert.ok(greeting.imap?.result.ok);
  assert.equal(greeting.imap.result.value.stage, 'greeting');
  assert.ok(greeting.imap.result.value.capabilities.includes('IDLE'), `${greeting.imap.result.value.capabilities}`);
  assert.equal(greeting.imap.account, undefined);

  const asUser = await testPlatform(app, 'old', { mailbox: `alice@${DOMAIN}`, password: 'wrong' }, ACTOR);
  assert.ok(asUser.imap?.result.ok, 'with a master user the mailbox password is not needed');
  assert.equal((await app.db('audit').where({ action: 'platform.test' }).orderBy('id', 'desc').first()).detail, 'ok');
});

test('a test against a server that does not answer says so with the error code, and is audited as failed', { timeout: 60_000 }, async () => {
  await addPlatform(app, { name: 'gone', plugin: 'postfixadmin', config: pfaConfig(await freePort()), skipTest: true }, ACTOR);
  const report = await testPlatform(app, 'gone', { domain: DOMAIN }, ACTOR);
  assert.equal(report.ok, false);
  assert.ok(report.connection && !report.connection.ok);
  assert.equal(report.connection.error.code, 'HOST_UNREACHABLE');
  assert.match(report.connection.error.message, /Cannot reach 127\.0\.0\.1:\d+/);
  assert.equal(report.imap, undefined, 'no IMAP probe once the connection failed');
  assert.equal((await app.db('audit').where({ action: 'platform.test', target: 'gone' }).first()).detail, 'failed: HOST_UNREACHABLE');
  assert.match((await app.db('audit').where({ action: 'platform.add', target: 'gone' }).first()).detail, /not tested/);
});

test('a DNS provider is tested by asking whether it manages a zone', { timeout: 60_000 }, async () => {
  const config = { server: `127.0.0.1:${land.dns.port}`, key: { name: land.dns.tsig.name, secret: land.dns.tsig.secret } };
  const added = await addPlatform(app, { name: 'zone', plugin: 'rfc2136', config }, ACTOR);
  assert.deepEqual(added.kinds, ['dns']);
  const managed = await testPlatform(app, 'zone', { zone: DOMAIN }, ACTOR);
  assert.deepEqual(managed.dns, { zone: DOMAIN, manages: { ok: true, value: true } });
  assert.equal(managed.ok, true);
  assert.equal(managed.connection, undefined);
  const other = await testPlatform(app, 'zone', { zone: 'elsewhere.test' }, ACTOR);
  assert.deepEqual(other.dns?.manages, { ok: true, value: false });
  assert.equal(other.ok, false);
  await assert.rejects(testPlatform(app, 'zone', {}, ACTOR), /zone is a DNS provider: give a zone to test/);
  assert.deepEqual((await platformDetails(app, 'zone')).secrets, ['key.secret']);
  assert.doesNotMatch(await auditText(), new RegExp(land.dns.tsig.secret.replace(/[+/=]/g, '.')));
});

test('remove is refused while a project uses the platform (as source, destination or DNS provider), then allowed', async () => {
  const now = new Date().toISOString();
  const [old, gone] = await Promise.all(['old', 'gone'].map(async (n) => (await app.db('platforms').where({ name: n }).first()).id));
  await app.db('projects').insert({ name: 'p1', source_platform_id: old, dest_platform_id: gone, options: JSON.stringify({ dnsProvider: 'zone' }), state: 'active', created_at: now });
  for (const name of ['old', 'gone', 'zone']) {
    await assert.rejects(removePlatform(app, name, ACTOR), (err: unknown) => {
      assert.ok(err instanceof CutoverError);
      assert.equal(err.code, 'PLATFORM_IN_USE');
      assert.match(err.message, /used by project\(s\) p1/);
      return true;
    });
  }
  assert.deepEqual((await listPlatformSummaries(app)).map((p) => [p.name, p.usedBy]), [['gone', ['p1']], ['old', ['p1']], ['zone', ['p1']]]);
  await app.db('projects').where({ name: 'p1' }).delete();
  await removePlatform(app, 'gone', ACTOR);
  assert.deepEqual((await listPlatformSummaries(app)).map((p) => p.name), ['old', 'zone']);
  assert.equal((await app.db('audit').where({ action: 'platform.remove' }).first()).target, 'gone');
});

test('the CLI drives the same service: platform add, test and remove keep their words and are audited as cli:USER', { timeout: 60_000 }, async () => {
  const dataDir = tempDataDir();
  const added = await cutover(['platform', 'add', 'src', '--plugin', 'postfixadmin', '--config', writePlatformConfig(land.old, dataDir, 'src', OLD_MX)], { dataDir });
  assert.equal(added.code, 0, added.stderr);
  assert.equal(added.stdout.trim(), 'platform src added (postfixadmin)');
  const tested = await cutover(['platform', 'test', 'src'], { dataDir });
  assert.equal(tested.code, 0, tested.stderr);
  assert.equal(tested.stdout.trim(), 'platform src: reachable; capabilities: attachDomain, renameAccount, createAccount, resetAccount, listAccounts, masterUser');
  const zoneFile = `${dataDir}/zone.json`;
  writeFileSync(zoneFile, JSON.stringify({ server: `127.0.0.1:${land.dns.port}`, key: { name: land.dns.tsig.name, secret: land.dns.tsig.secret } }));
  assert.equal((await cutover(['platform', 'add', 'zone', '--plugin', 'rfc2136', '--config', zoneFile], { dataDir })).code, 0);
  const notMail = await cutover(['platform', 'test', 'zone'], { dataDir });
  assert.equal(notMail.code, 2);
  assert.match(notMail.stderr, /CONFIG_INVALID.*it provides no mail platform/);
  const removed = await cutover(['platform', 'remove', 'src'], { dataDir });
  assert.equal(removed.code, 0, removed.stderr);
  assert.equal(removed.stdout.trim(), 'platform src removed');
  const cli = await openContext({ CUTOVER_DATA_DIR: dataDir, CUTOVER_LOG_LEVEL: 'silent' });
  try {
    const rows = await cli.db('audit').select('actor', 'action', 'target').orderBy('id');
    assert.deepEqual(rows.map((r) => `${r.action} ${r.target}`), ['platform.add src', 'platform.test src', 'platform.add zone', 'platform.remove src']);
    assert.ok(rows.every((r) => /^cli:/.test(r.actor)));
  } finally {
    await cli.close();
  }
});
