import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { connect, type Db } from '../../server/db/knex.ts';
import { cutover, tempDataDir } from '../support/cli.ts';
import { corpusFor } from '../support/corpus.ts';
import { testDatabase, testDatabaseEnv } from '../support/database.ts';
import { rawMessage, seed } from '../support/mail.ts';
import { DOMAIN, NEW_DNS, NEW_MX, OLD_MX, startLandscape, writePlatformConfig, type Landscape } from '../support/platforms.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';

// Three workers, each allowed 4 connections per account, against one destination host the admin
// limited to LIMIT connections: a counting proxy in front of that host sees every connection.
const ACCOUNTS = Array.from({ length: 6 }, (_, i) => ({ address: `user${i}@${DOMAIN}`, password: `pw-${i}` }));
const LIMIT = 4;

let land: Landscape | undefined;
let proxies: TcpProxy[] = [];
let db: Db | undefined;
after(async () => {
  await db?.destroy();
  for (const p of proxies) await p.stop();
  await land?.stop();
});

test(`3 workers never hold more than the platform's limit of connections to its host (${testDatabase})`, { timeout: 300_000 }, async () => {
  land = await startLandscape({ accounts: ACCOUNTS, dns: NEW_DNS, old: { specialUse: false } });
  for (const { address } of ACCOUNTS) {
    await seed(land.old, address, [...corpusFor(address).messages, ...Array.from({ length: 15 }, (_, i) => ({ folder: 'INBOX', raw: rawMessage({ subject: `filler ${i}`, body: 'z'.repeat(2_000) }) }))]);
  }
  const toNew = await startTcpProxy(land.new.port);
  const toOld = await startTcpProxy(land.old.port);
  proxies = [toNew, toOld];
  const dataDir = tempDataDir();
  const env: Record<string, string> = { ...(await testDatabaseEnv()), CUTOVER_LEASE_SECONDS: '5' };
  for (const [name, inst, mx, port] of [['old', land.old, OLD_MX, toOld.port], ['new', land.new, NEW_MX, toNew.port]] as const) {
    const r = await cutover(['platform', 'add', name, '--plugin', 'postfixadmin', '--config', writePlatformConfig(inst, dataDir, name, mx, { port })], { dataDir, env });
    assert.equal(r.code, 0, r.stderr);
  }
  for (const [name, limit] of [['new', LIMIT], ['old', LIMIT]] as const) {
    const set = await cutover(['connections', name, String(limit)], { dataDir, env });
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, new RegExp(`${name}\\tat most ${limit} connections per host`));
  }
  const r = await cutover(['migrate', '--from', 'old', '--to', 'new', '--domain', DOMAIN, '--overlap', '0', '--nameserver', `127.0.0.1:${land.dns.port}`, '--name', 'capped'], { dataDir, env });
  assert.equal(r.code, 0, r.stderr);

  const workers = await Promise.all(['host-a', 'host-b', 'host-c'].map((host) =>
    cutover(['run', '--until-idle', '--concurrency', '4'], { dataDir, env: { ...env, CUTOVER_WORKER_ID: host }, timeoutMs: 280_000 })));
  for (const w of workers) assert.equal(w.code, 0, w.stderr);
  db = connect(dataDir, env.DATABASE_URL);
  const states = await db('mailboxes').pluck('state');
  assert.deepEqual([...new Set(states)], ['done'], JSON.stringify(await db('mailboxes').select('address', 'state', 'error_message')));
  console.log(`# connections to one host with 3 workers on ${testDatabase}: destination max ${toNew.maxOpen}, source max ${toOld.maxOpen}, limit ${LIMIT} (accepted ${toNew.accepted} + ${toOld.accepted})`);
  assert.ok(toNew.maxOpen <= LIMIT, `destination: ${toNew.maxOpen} connections open at once, limit ${LIMIT}`);
  assert.ok(toOld.maxOpen <= LIMIT, `source: ${toOld.maxOpen} connections open at once, limit ${LIMIT}`);
  assert.ok(toNew.maxOpen >= 2, 'the workers did work side by side');
  assert.equal(Number((await db('host_slots').count({ n: '*' }).first())!.n), 0, 'every slot was given back');
});
