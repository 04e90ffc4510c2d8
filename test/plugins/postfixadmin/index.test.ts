import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import knexFactory, { type Knex } from 'knex';
import plugin, { type PostfixAdminConfig } from '../../../plugins/postfixadmin/index.ts';
import { addDomain, addMailbox, startDovecot, type DovecotInstance } from '../../../server/devservers/dovecot.ts';
import { freePort } from '../../../server/devservers/ports.ts';
import { CutoverError } from '../../../server/errors.ts';
import { createLogger } from '../../../server/log.ts';
import { closeQuietly, openImap } from '../../../server/mail/imap.ts';
import type { PlatformConnector } from '../../../server/plugins/contract.ts';
import type { ImapFlow } from 'imapflow';
import { canLogin, imapAs, rawMessage, seed } from '../../support/mail.ts';

const DOMAIN = 'example.test';
const OTHER = 'other.test';

let inst: DovecotInstance;
let dir: string;
let platform: PlatformConnector;
let pa: Knex; // direct look at the PostfixAdmin tables
const opened: PlatformConnector[] = [];

async function messagesIn(client: ImapFlow, folder: string): Promise<number | undefined> {
  const status = await client.status(folder, { messages: true });
  assert.ok(status, `STATUS ${folder} failed`);
  return status.messages;
}

function rawConfig(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    database: { client: 'sqlite3', filename: inst.dbPath },
    imap: { host: inst.host, port: inst.port, security: 'none' },
    masterUser: { user: inst.masterUser, passwordFile: path.join(dir, 'master.pass') },
    mailHost: 'mx.example.net',
    expectedDns: { mx: [{ priority: 10, exchange: 'mx.example.net' }], spfIncludes: ['spf.example.net'] },
    ...over,
  };
}

function connector(raw: Record<string, unknown>): PlatformConnector {
  const config = plugin.configSchema.parse(raw);
  const p = plugin.platform!(config, { log: createLogger('silent') });
  opened.push(p);
  return p;
}

function issues(raw: unknown): string[] {
  const result = plugin.configSchema.safeParse(raw);
  assert.equal(result.success, false, `expected ${JSON.stringify(raw)} to be rejected`);
  return result.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

before(async () => {
  inst = await startDovecot();
  dir = mkdtempSync(path.join(os.tmpdir(), 'cutover-pa-'));
  writeFileSync(path.join(dir, 'master.pass'), `${inst.masterPassword}\n`, { mode: 0o600 });
  await addDomain(inst, DOMAIN);
  await addDomain(inst, OTHER);
  await addMailbox(inst, `alice@${DOMAIN}`, 'alice-pw', 5_000_000);
  await addMailbox(inst, `bob@${DOMAIN}`, 'bob-pw');
  await addMailbox(inst, `carol@${DOMAIN}`, 'carol-pw');
  await addMailbox(inst, `zed@${OTHER}`, 'zed-pw');
  await seed(inst, `alice@${DOMAIN}`, [{ folder: 'INBOX', raw: rawMessage({ subject: 'alice keeps this' }) }, { folder: 'Projects', raw: rawMessage({ subject: 'and this' }) }]);
  pa = knexFactory({ client: 'sqlite3', connection: { filename: inst.dbPath }, useNullAsDefault: true, pool: { min: 0, max: 1 } });
  platform = connector(rawConfig());
});

after(async () => {
  for (const p of opened) await p.close().catch(() => undefined);
  await pa?.destroy();
  await inst?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// ------------------------------------------------------------------ configuration

test('config: a complete config parses, with defaults filled in', () => {
  const config = plugin.configSchema.parse(rawConfig()) as PostfixAdminConfig;
  assert.equal(config.imap.tlsVerify, true);
  assert.equal(config.imap.allowPlaintext, false);
  assert.equal(config.relayTable, 'cutover_domain_relay');
  assert.equal(config.masterUser!.separator, '*');
  assert.equal(plugin.id, 'postfixadmin');
});

test('config: missing fields are named', () => {
  const { database: _d, mailHost: _m, ...rest } = rawConfig();
  const found = issues(rest);
  assert.ok(found.some((i) => i.startsWith('database:')), found.join('\n'));
  assert.ok(found.some((i) => i.startsWith('mailHost:')), found.join('\n'));
  assert.ok(issues(rawConfig({ imap: { host: '127.0.0.1', security: 'none' } })).some((i) => i.startsWith('imap.port:')));
  assert.ok(issues(rawConfig({ expectedDns: { mx: [] } })).some((i) => i.startsWith('expectedDns.mx:')));
  assert.ok(issues(rawConfig({ database: { client: 'sqlite3' } })).some((i) => i.startsWith('database.filename:')));
  assert.ok(issues(rawConfig({ databse: {} })).some((i) => /databse/.test(i)), 'a misspelt key is refused (strict)');
});

test('config: security "none" is refused to a non-loopback host unless allowPlaintext', () => {
  const found = issues(rawConfig({ imap: { host: 'mail.example.net', port: 143, security: 'none' } }));
  assert.ok(found.some((i) => /^imap: .*clear/.test(i)), found.join('\n'));
  issues(rawConfig({ imap: { host: '192.0.2.10', port: 143, security: 'none' } }));
  for (const host of ['127.0.0.1', 'localhost', '::1', '127.1.2.3']) {
    assert.ok(plugin.configSchema.safeParse(rawConfig({ imap: { host, port: 143, security: 'none' } })).success, host);
  }
  assert.ok(plugin.configSchema.safeParse(rawConfig({ imap: { host: 'mail.example.net', port: 143, security: 'none', allowPlaintext: true } })).success);
  assert.ok(plugin.configSchema.safeParse(rawConfig({ imap: { host: 'mail.example.net', port: 993, security: 'tls' } })).success);
});

test('config: bad host names, ports, master-user secrets and relay table names are refused', () => {
  for (const host of ['mail..example.net', 'bad host', 'mail_example!.net', '-lead.example.net', '']) {
    assert.ok(issues(rawConfig({ imap: { host, port: 993, security: 'tls' } })).some((i) => i.startsWith('imap.host:')), host);
  }
  assert.ok(issues(rawConfig({ mailHost: 'no spaces allowed' })).some((i) => i.startsWith('mailHost:')));
  assert.ok(issues(rawConfig({ imap: { host: 'mail.example.net', port: 70000, security: 'tls' } })).some((i) => i.startsWith('imap.port:')));
  assert.ok(issues(rawConfig({ imap: { host: 'mail.example.net', port: 993, security: 'ssl' } })).some((i) => i.startsWith('imap.security:')));
  assert.ok(issues(rawConfig({ masterUser: { user: 'm', password: 'a', passwordFile: '/x' } })).some((i) => /exactly one/.test(i)));
  assert.ok(issues(rawConfig({ masterUser: { user: 'm' } })).some((i) => /exactly one/.test(i)));
  assert.ok(issues(rawConfig({ relayTable: 'relay; DROP TABLE mailbox' })).some((i) => i.startsWith('relayTable:')));
});

// ------------------------------------------------------------------ reading

test('testConnection succeeds against the real database and IMAP port', async () => {
  await platform.testConnection();
});

test('testConnection fails with HOST_UNREACHABLE (retryable) for a closed IMAP port', async () => {
  const closed = connector(rawConfig({ imap: { host: '127.0.0.1', port: await freePort(), security: 'none' } }));
  await assert.rejects(closed.testConnection(), (err: unknown) => {
    assert.ok(err instanceof CutoverError);
    assert.equal(err.code, 'HOST_UNREACHABLE');
    assert.equal(err.retryable, true);
    return true;
  });
});

test('testConnection fails with PLATFORM_FAILED when the database has no PostfixAdmin tables', async () => {
  const empty = path.join(dir, 'empty.db');
  const broken = connector(rawConfig({ database: { client: 'sqlite3', filename: empty } }));
  await assert.rejects(broken.testConnection(), (err: unknown) => err instanceof CutoverError && err.code === 'PLATFORM_FAILED' && /domain/.test(err.message));
});

test('domainExists', async () => {
  assert.equal(await platform.domainExists(DOMAIN), true);
  assert.equal(await platform.domainExists(OTHER), true);
  assert.equal(await platform.domainExists('nowhere.test'), false);
});

test('listAccounts: the active accounts of that domain only, sorted, with quotas', async () => {
  await addMailbox(inst, `dora@${DOMAIN}`, 'dora-pw');
  await pa('mailbox').where({ username: `dora@${DOMAIN}` }).update({ active: 0 });
  const accounts = await platform.listAccounts(DOMAIN);
  assert.deepEqual(accounts.map((a) => a.address), [`alice@${DOMAIN}`, `bob@${DOMAIN}`, `carol@${DOMAIN}`]);
  assert.deepEqual(accounts[0], { address: `alice@${DOMAIN}`, active: true, quotaBytes: 5_000_000 });
  assert.equal(accounts[1]!.quotaBytes, null, 'quota 0 means unlimited');
  assert.deepEqual((await platform.listAccounts(OTHER)).map((a) => a.address), [`zed@${OTHER}`]);
  assert.deepEqual(await platform.listAccounts('nowhere.test'), []);
});

test('getAccount: the account, an inactive one flagged so, null for an unknown address', async () => {
  assert.deepEqual(await platform.getAccount(`bob@${DOMAIN}`), { address: `bob@${DOMAIN}`, active: true, quotaBytes: null });
  assert.equal((await platform.getAccount(`dora@${DOMAIN}`))!.active, false);
  assert.equal(await platform.getAccount(`nobody@${DOMAIN}`), null);
  assert.equal(await platform.getAccount(`alice@${OTHER}`), null);
});

// ------------------------------------------------------------------ writing

test('renameAccount: renamed once, idempotent after; the account logs in under the new address with its old password and keeps its mail', async () => {
  const from = `alice@${DOMAIN}`;
  const to = `alice01@${DOMAIN}`;
  await pa('alias').where({ address: from }).update({ goto: `${from},archive@${OTHER}` });

  assert.deepEqual(await platform.renameAccount(from, to), { renamed: true });
  assert.deepEqual(await platform.renameAccount(from, to), { renamed: false });

  assert.equal(await platform.getAccount(from), null);
  assert.deepEqual(await platform.getAccount(to), { address: to, active: true, quotaBytes: 5_000_000 });
  const row = await pa('mailbox').where({ username: to }).first();
  assert.equal(row.local_part, 'alice01');
  assert.equal(row.maildir, `${DOMAIN}/alice/`, 'the maildir stays where it is');

  // The account's own alias follows it; the original address forwards to it during the overlap.
  const aliases = await pa('alias').whereIn('address', [from, to]).orderBy('address');
  assert.deepEqual(aliases.map((a: { address: string; goto: string }) => [a.address, a.goto]), [[to, `${to},archive@${OTHER}`], [from, to]].sort());

  assert.equal(await canLogin(inst, from, 'alice-pw'), false);
  const client = await imapAs(inst, to, 'alice-pw');
  try {
    assert.equal(await messagesIn(client, 'INBOX'), 1);
    assert.equal(await messagesIn(client, 'Projects'), 1);
  } finally {
    await client.logout();
  }
});

test('renameAccount: mail sent to the original address during the overlap window still reaches the renamed mailbox on the old platform', async () => {
  const from = `alice@${DOMAIN}`;
  const forward = await pa('alias').where({ address: from, active: 1 }).first();
  assert.ok(forward, `no alias for ${from} on the old platform after the rename`);
  assert.ok(String(forward.goto).split(',').includes(`alice01@${DOMAIN}`));
});

test('renameAccount: neither address present → SOURCE_ACCOUNT_MISSING; both present → DEST_ADDRESS_TAKEN, nothing changed', async () => {
  await assert.rejects(platform.renameAccount(`ghost@${DOMAIN}`, `ghost01@${DOMAIN}`), (e: unknown) => e instanceof CutoverError && e.code === 'SOURCE_ACCOUNT_MISSING');
  await assert.rejects(platform.renameAccount(`bob@${DOMAIN}`, `carol@${DOMAIN}`), (e: unknown) => e instanceof CutoverError && e.code === 'DEST_ADDRESS_TAKEN');
  assert.ok(await canLogin(inst, `bob@${DOMAIN}`, 'bob-pw'));
  assert.ok(await canLogin(inst, `carol@${DOMAIN}`, 'carol-pw'));
});

test('createAccount: created once, idempotent after (the first password stays), login works with the given password', async () => {
  const address = `new.user@${DOMAIN}`;
  assert.deepEqual(await platform.createAccount({ address, password: 'S3cret-pw!', quotaBytes: 1_000_000 }), { created: true });
  assert.deepEqual(await platform.createAccount({ address, password: 'another-pw', quotaBytes: null }), { created: false });
  assert.ok(await canLogin(inst, address, 'S3cret-pw!'));
  assert.equal(await canLogin(inst, address, 'another-pw'), false);
  assert.deepEqual(await platform.getAccount(address), { address, active: true, quotaBytes: 1_000_000 });
  const alias = await pa('alias').where({ address }).first();
  assert.equal(alias.goto, address);
  assert.equal(Number((await pa('mailbox').where({ username: address }).count({ n: '*' }).first())!.n), 1);
  // The new account really works: it can receive mail.
  await seed(inst, address, [{ folder: 'INBOX', raw: rawMessage({ subject: 'welcome' }) }]);
  const client = await imapAs(inst, address, 'S3cret-pw!');
  try {
    assert.equal(await messagesIn(client, 'INBOX'), 1);
  } finally {
    await client.logout();
  }
});

test('createAccount of an address whose old account was renamed on the same platform gets its own, empty mailbox', async () => {
  const address = `alice@${DOMAIN}`;
  assert.ok(await platform.getAccount(`alice01@${DOMAIN}`), 'precondition: alice was renamed to alice01');
  await platform.createAccount({ address, password: 'fresh-pw', quotaBytes: null });
  const rows = await pa('mailbox').whereIn('username', [address, `alice01@${DOMAIN}`]).pluck('maildir');
  assert.equal(new Set(rows).size, 2, `maildirs: ${rows.join(', ')}`);
  const client = await imapAs(inst, address, 'fresh-pw');
  try {
    assert.equal(await messagesIn(client, 'INBOX'), 0);
  } finally {
    await client.logout();
  }
});

test('createAccount on a domain the platform does not have is refused rather than reported as created', async () => {
  const address = 'x@absent.test';
  await assert.rejects(platform.createAccount({ address, password: 'p', quotaBytes: null }), (e: unknown) => e instanceof CutoverError);
  assert.equal(await platform.getAccount(address), null);
});

test('attachDomain: domain and relay row created once, repeated call adds nothing, a changed relay is updated', async () => {
  const domain = 'attached.test';
  assert.deepEqual(await platform.attachDomain(domain, 'nonAuthoritative', 'mx.old.example.net'), { state: 'ok' });
  assert.deepEqual(await platform.attachDomain(domain, 'nonAuthoritative', 'mx.old.example.net'), { state: 'ok' });
  assert.equal(await platform.domainExists(domain), true);
  assert.deepEqual(await pa('cutover_domain_relay').where({ domain }), [{ domain, mode: 'nonAuthoritative', relay_host: 'mx.old.example.net' }]);
  assert.equal((await pa('domain').where({ domain })).length, 1);

  await platform.attachDomain(domain, 'nonAuthoritative', 'mx2.old.example.net');
  assert.deepEqual(await pa('cutover_domain_relay').where({ domain }), [{ domain, mode: 'nonAuthoritative', relay_host: 'mx2.old.example.net' }]);

  // An existing domain is attached without touching its row.
  const before = await pa('domain').where({ domain: OTHER }).first();
  await platform.attachDomain(OTHER, 'nonAuthoritative', 'mx.old.example.net');
  assert.deepEqual(await pa('domain').where({ domain: OTHER }).first(), before);
  assert.equal((await pa('cutover_domain_relay')).length, 2);
});

test('detachRelay: removes the relay row of that domain only, keeps the domain, repeated call finds nothing; no table yet is nothing to remove', async () => {
  const fresh = connector(rawConfig({ relayTable: 'relay_not_created_yet' }));
  assert.deepEqual(await fresh.detachRelay!(DOMAIN), { removed: false });
  assert.equal(await pa.schema.hasTable('relay_not_created_yet'), false);

  const domain = 'detached.test';
  await platform.attachDomain(domain, 'nonAuthoritative', 'mx.old.example.net');
  const others = (await pa('cutover_domain_relay').whereNot({ domain })).length;
  assert.ok(others > 0);
  assert.deepEqual(await platform.detachRelay!(domain), { removed: true });
  assert.deepEqual(await pa('cutover_domain_relay').where({ domain }), []);
  assert.equal((await pa('cutover_domain_relay')).length, others, 'other domains stay relayed');
  assert.equal(await platform.domainExists(domain), true, 'the domain itself stays');
  assert.deepEqual(await platform.detachRelay!(domain), { removed: false });
});

test('resetAccount removes the account and its alias; repeating it is harmless', async () => {
  const address = `carol@${DOMAIN}`;
  await platform.resetAccount(address);
  assert.equal(await platform.getAccount(address), null);
  assert.equal(await pa('alias').where({ address }).first(), undefined);
  assert.equal(await canLogin(inst, address, 'carol-pw'), false);
  await platform.resetAccount(address);
  assert.ok(await canLogin(inst, `bob@${DOMAIN}`, 'bob-pw'), 'other accounts untouched');
});

// ------------------------------------------------------------------ IMAP access

test('imapEndpoint with a master user: user is addr*migrator, the password comes from the file, and it logs in', async () => {
  const address = `bob@${DOMAIN}`;
  const marker = `for bob only ${Date.now()}`;
  await seed(inst, address, [{ folder: 'INBOX', raw: rawMessage({ subject: marker }) }]);
  const ep = await platform.imapEndpoint(address);
  assert.deepEqual(ep.auth, { user: `${address}*${inst.masterUser}`, pass: inst.masterPassword });
  assert.deepEqual([ep.host, ep.port, ep.security, ep.tlsVerify], [inst.host, inst.port, 'none', true]);
  const client = await openImap(ep);
  try {
    await client.mailboxOpen('INBOX', { readOnly: true });
    const subjects: string[] = [];
    for await (const m of client.fetch('1:*', { envelope: true })) subjects.push(m.envelope?.subject ?? '');
    assert.ok(subjects.includes(marker), `logged in to bob's mailbox: ${subjects.join(', ')}`);
  } finally {
    await closeQuietly(client);
  }
});

test('imapEndpoint: master password from an environment variable, another separator; an empty variable is a CONFIG_INVALID', async () => {
  process.env.CUTOVER_TEST_MASTER = inst.masterPassword;
  const fromEnv = connector(rawConfig({ masterUser: { user: inst.masterUser, passwordEnv: 'CUTOVER_TEST_MASTER' } }));
  assert.equal((await fromEnv.imapEndpoint(`bob@${DOMAIN}`)).auth.pass, inst.masterPassword);
  const hash = connector(rawConfig({ masterUser: { user: inst.masterUser, password: 'x', separator: '#' } }));
  assert.equal((await hash.imapEndpoint(`bob@${DOMAIN}`)).auth.user, `bob@${DOMAIN}#${inst.masterUser}`);
  const unset = connector(rawConfig({ masterUser: { user: inst.masterUser, passwordEnv: 'CUTOVER_TEST_UNSET_VARIABLE' } }));
  await assert.rejects(unset.imapEndpoint(`bob@${DOMAIN}`), (e: unknown) => e instanceof CutoverError && e.code === 'CONFIG_INVALID');
  delete process.env.CUTOVER_TEST_MASTER;
});

test('imapEndpoint without a master user: the user\'s own password, or CONFIG_INVALID when none is known', async () => {
  const { masterUser: _m, ...noMaster } = rawConfig();
  const p = connector(noMaster);
  assert.equal(p.capabilities.masterUser, false);
  await assert.rejects(p.imapEndpoint(`bob@${DOMAIN}`), (e: unknown) => e instanceof CutoverError && e.code === 'CONFIG_INVALID');
  const ep = await p.imapEndpoint(`bob@${DOMAIN}`, 'bob-pw');
  assert.deepEqual(ep.auth, { user: `bob@${DOMAIN}`, pass: 'bob-pw' });
  await closeQuietly(await openImap(ep));
});

test('capabilities and expected DNS come from the config', async () => {
  const p = connector(rawConfig({ maxMailboxBytes: 5_000_000_000 }));
  assert.deepEqual(p.capabilities, { attachDomain: true, renameAccount: true, createAccount: true, resetAccount: true, listAccounts: true, masterUser: true, maxMailboxBytes: 5_000_000_000 });
  assert.deepEqual(await p.expectedDns(DOMAIN), { mx: [{ priority: 10, exchange: 'mx.example.net' }], spfIncludes: ['spf.example.net'] });
  assert.equal(await p.mailHost(DOMAIN), 'mx.example.net');
});
