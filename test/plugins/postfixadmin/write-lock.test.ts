import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import knexFactory, { type Knex } from 'knex';
import plugin from '../../../plugins/postfixadmin/index.ts';
import { addDomain, addMailbox, startDovecot, type DovecotInstance } from '../../../server/devservers/dovecot.ts';
import { createLogger } from '../../../server/log.ts';
import type { PlatformConnector } from '../../../server/plugins/contract.ts';

// Two workers on one PostfixAdmin SQLite database: a write of one must wait for the other's, not fail.
const DOMAIN = 'example.test';
let inst: DovecotInstance;
let dir: string;
let platform: PlatformConnector;
let other: Knex; // another process's connection, holding the write lock for a while

before(async () => {
  inst = await startDovecot();
  dir = mkdtempSync(path.join(os.tmpdir(), 'cutover-pfa-lock-'));
  writeFileSync(path.join(dir, 'master.pass'), inst.masterPassword);
  await addDomain(inst, DOMAIN);
  for (const local of ['ann', 'ben', 'cid']) await addMailbox(inst, `${local}@${DOMAIN}`, 'pw');
  const config = plugin.configSchema.parse({
    database: { client: 'sqlite3', filename: inst.dbPath },
    imap: { host: inst.host, port: inst.port, security: 'none' },
    masterUser: { user: inst.masterUser, passwordFile: path.join(dir, 'master.pass') },
    mailHost: 'mx.example.net',
    expectedDns: { mx: [{ priority: 10, exchange: 'mx.example.net' }] },
  });
  platform = plugin.platform!(config, { log: createLogger('silent') });
  other = knexFactory({ client: 'sqlite3', connection: { filename: inst.dbPath }, useNullAsDefault: true, pool: { min: 1, max: 1 } });
});

after(async () => {
  await platform?.close();
  await other?.destroy();
  await inst?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Another writer takes the database's write lock and keeps it for `ms`. */
async function holdWriteLock(ms: number): Promise<{ released: Promise<void> }> {
  let locked!: () => void;
  const taken = new Promise<void>((r) => { locked = r; });
  const held = other.transaction(async (trx) => {
    await trx('domain').where({ domain: DOMAIN }).update({ modified: '2020-01-01 00:00:00' });
    locked();
    await new Promise((r) => setTimeout(r, ms));
  });
  await taken;
  return { released: held };
}

test('rename, create and attach wait for another writer\'s lock instead of failing with SQLITE_BUSY', async () => {
  for (const [what, write] of [
    ['rename', () => platform.renameAccount(`ann@${DOMAIN}`, `ann01@${DOMAIN}`)],
    ['create', () => platform.createAccount({ address: `dan@${DOMAIN}`, password: 'pw', quotaBytes: null })],
    ['attach', () => platform.attachDomain('other.test', 'nonAuthoritative', 'mx.old.example.net')],
  ] as const) {
    const held = await holdWriteLock(400);
    const started = Date.now();
    await assert.doesNotReject(write(), what);
    assert.ok(Date.now() - started >= 300, `${what} waited for the lock (${Date.now() - started} ms)`);
    await held.released;
  }
  assert.ok(await platform.getAccount(`ann01@${DOMAIN}`));
  assert.ok(await platform.getAccount(`dan@${DOMAIN}`));
});
