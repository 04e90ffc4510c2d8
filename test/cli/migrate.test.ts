import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import knexFactory from 'knex';
import { cutover, tempDataDir } from '../support/cli.ts';
import { corpusFor } from '../support/corpus.ts';
import { canLogin, rawMessage, seed, snapshot, type FolderSnapshot } from '../support/mail.ts';
import { DOMAIN, NEW_MX, OLD_MX, startLandscape, switchDnsToNew, writePlatformConfig, type Landscape } from '../support/platforms.ts';

const ACCOUNTS = [
  { address: 'alice@example.test', password: 'alice-pw' },
  { address: 'bob@example.test', password: 'bob-pw' },
];

let land: Landscape;
let dataDir: string;
const corpus = new Map<string, ReturnType<typeof corpusFor>>();

before(async () => {
  land = await startLandscape({ accounts: ACCOUNTS, old: { specialUse: false } });
  for (const { address } of ACCOUNTS) {
    const c = corpusFor(address);
    corpus.set(address, c);
    await seed(land.old, address, c.messages);
  }
  dataDir = tempDataDir();
});

after(async () => { await land?.stop(); });

function mapped(source: FolderSnapshot[], mapping: Record<string, string>): Map<string, FolderSnapshot['messages']> {
  return new Map(source.filter((f) => f.messages.length).map((f) => [mapping[f.path] ?? f.path, f.messages]));
}

test('migrate moves a whole domain end to end, waiting on DNS and syncing what arrives meanwhile', { timeout: 240_000 }, async () => {
  const oldConfig = writePlatformConfig(land.old, dataDir, 'old', OLD_MX);
  const newConfig = writePlatformConfig(land.new, dataDir, 'new', NEW_MX);
  assert.equal((await cutover(['platform', 'add', 'old', '--plugin', 'postfixadmin', '--config', oldConfig], { dataDir })).code, 0);
  assert.equal((await cutover(['platform', 'add', 'new', '--plugin', 'postfixadmin', '--config', newConfig], { dataDir })).code, 0);

  const before = new Map<string, FolderSnapshot[]>();
  for (const { address } of ACCOUNTS) before.set(address, await snapshot(land.old, address));

  const migration = cutover(['migrate', '--from', 'old', '--to', 'new', '--domain', DOMAIN, '--wait', '--json', '--overlap', '0',
    '--nameserver', `127.0.0.1:${land.dns.port}`, '--dns-recheck', '1', '--name', 'e2e'], { dataDir, timeoutMs: 200_000 });

  // While the domain still points to the old host, the workflow must hold at dns-cutover.
  const waitingAtDns = async () => {
    const status = await cutover(['status', 'e2e', '--json'], { dataDir });
    if (status.code !== 0) return false;
    const report = JSON.parse(status.stdout);
    return report.mailboxes.every((m: { step: string; state: string }) => m.step === 'dns-cutover' && m.state === 'waiting');
  };
  const deadline = Date.now() + 150_000;
  while (!(await waitingAtDns())) {
    assert.ok(Date.now() < deadline, 'mailboxes never reached dns-cutover');
    await new Promise((r) => setTimeout(r, 500));
  }
  // Mail that lands on the old (renamed) account during the overlap must follow.
  const late = rawMessage({ subject: 'arrived during the overlap' });
  await seed(land.old, 'alice01@example.test', [{ folder: 'INBOX', raw: late, flags: [], date: new Date('2024-11-01T00:00:00Z') }]);
  await switchDnsToNew(land.dns);

  const result = await migration;
  assert.equal(result.code, 0, result.stderr);
  const report = JSON.parse(result.stdout);
  assert.equal(report.mailboxes.length, 2);

  for (const { address, password } of ACCOUNTS) {
    const m = report.mailboxes.find((x: { address: string }) => x.address === address);
    const local = address.split('@')[0];
    assert.equal(m.state, 'done');
    assert.equal(m.tempAddress, `${local}01@${DOMAIN}`);
    assert.match(m.newPassword, /^[A-Za-z0-9]{20}$/, 'a generated password is reported once');
    const inbox = m.folders.find((f: { source: string }) => f.source === 'INBOX');
    assert.ok(inbox.copied >= 7 && inbox.copiedBytes > 0 && inbox.skipped === 0 && inbox.failed === 0);

    // Old account: renamed, still logs in under the temporary address with its own password, mail untouched.
    assert.equal(await canLogin(land.old, address, password), false);
    assert.equal(await canLogin(land.old, `${local}01@${DOMAIN}`, password), true);
    const oldNow = await snapshot(land.old, `${local}01@${DOMAIN}`);
    const expectedOld = before.get(address)!;
    if (local === 'alice') assert.equal(oldNow.find((f) => f.path === 'INBOX')!.messages.length, expectedOld.find((f) => f.path === 'INBOX')!.messages.length + 1);
    else assert.deepEqual(oldNow, expectedOld);

    // New account: original address, reported password, every message byte for byte with flags and dates, mapped folders.
    assert.equal(await canLogin(land.new, address, m.newPassword), true);
    const destination = mapped(await snapshot(land.new, address), {});
    const source = mapped(oldNow, corpus.get(address)!.mapping);
    assert.deepEqual(destination, source);
    const newFolders = await snapshot(land.new, address);
    assert.ok(newFolders.find((f) => f.path === 'Sent')!.messages.length === 2, 'Éléments envoyés landed in the special-use Sent');
    assert.ok(newFolders.find((f) => f.path === 'Entwürfe & Ideen')!.subscribed, 'subscriptions are copied');
  }

  // The domain was attached to new as non-authoritative; its last mailbox has finished, so new no
  // longer relays it to the old host (test/plugins/postfixadmin/relay.test.ts follows the row).
  const newDb = knexFactory({ client: 'sqlite3', connection: { filename: land.new.dbPath }, useNullAsDefault: true });
  try {
    assert.ok(await newDb('domain').where({ domain: DOMAIN, active: 1 }).first());
    assert.equal(await newDb('cutover_domain_relay').where({ domain: DOMAIN }).first(), undefined);
  } finally {
    await newDb.destroy();
  }

  // The password is reported once only.
  const again = JSON.parse((await cutover(['status', 'e2e', '--json'], { dataDir })).stdout);
  assert.ok(again.mailboxes.every((m: { newPassword?: string }) => m.newPassword === undefined));
});
