import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { cutover, tempDataDir } from '../support/cli.ts';
import { rawMessage, seed } from '../support/mail.ts';
import { DOMAIN, NEW_MX, OLD_MX, startLandscape, writePlatformConfig, type Landscape } from '../support/platforms.ts';

let land: Landscape;
let dataDir: string;

before(async () => {
  // The zone keeps pointing at the old host: the DNS step can only end by an admin's confirmation.
  land = await startLandscape({ accounts: [{ address: 'alice@example.test', password: 'a' }, { address: 'bob@example.test', password: 'b' }] });
  for (const address of ['alice@example.test', 'bob@example.test']) await seed(land.old, address, [{ folder: 'INBOX', raw: rawMessage({ subject: address }) }]);
  dataDir = tempDataDir();
  for (const [name, inst, mx] of [['old', land.old, OLD_MX], ['new', land.new, NEW_MX]] as const) {
    assert.equal((await cutover(['platform', 'add', name, '--plugin', 'postfixadmin', '--config', writePlatformConfig(inst, dataDir, name, mx)], { dataDir })).code, 0);
  }
});
after(async () => { await land?.stop(); });

async function mailboxes(): Promise<Record<string, { state: string; step: string; waitingFor: string | null }>> {
  const report = JSON.parse((await cutover(['status', 'acts', '--json'], { dataDir })).stdout);
  return Object.fromEntries(report.mailboxes.map((m: { address: string }) => [m.address, m]));
}

test('pause, resume, stop and a manual DNS confirmation drive the workflow as an admin expects', { timeout: 120_000 }, async () => {
  const created = await cutover(['migrate', '--from', 'old', '--to', 'new', '--domain', DOMAIN, '--name', 'acts', '--overlap', '0', '--nameserver', `127.0.0.1:${land.dns.port}`], { dataDir });
  assert.equal(created.code, 0, created.stderr);

  assert.equal((await cutover(['pause', 'bob@example.test'], { dataDir })).code, 0);
  assert.equal((await cutover(['run', '--until-idle'], { dataDir })).code, 0);
  let m = await mailboxes();
  assert.deepEqual([m['bob@example.test']!.state, m['bob@example.test']!.step], ['paused', 'preflight'], 'a paused mailbox is left alone');
  assert.deepEqual([m['alice@example.test']!.state, m['alice@example.test']!.step], ['waiting', 'dns-cutover']);
  assert.match(m['alice@example.test']!.waitingFor!, /MX.*mx\.old\.example\.net.*mx\.new\.example\.net/s, 'the wait says what is found and what is expected');

  // Actions that make no sense in the current state are refused with the state named.
  const refused = await cutover(['resume', 'alice@example.test'], { dataDir });
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /ACTION_NOT_ALLOWED.*Cannot resume alice@example\.test: it is waiting/);
  assert.match((await cutover(['pause', 'nobody@example.test'], { dataDir })).stderr, /MAILBOX_UNKNOWN/);

  const confirmed = await cutover(['confirm', '--project', 'acts', '--domain', DOMAIN], { dataDir });
  assert.equal(confirmed.code, 0, confirmed.stderr);
  assert.equal((await cutover(['run', '--until-idle'], { dataDir })).code, 0);
  m = await mailboxes();
  assert.equal(m['alice@example.test']!.state, 'done');

  assert.equal((await cutover(['resume', 'bob@example.test'], { dataDir })).code, 0);
  assert.equal((await cutover(['stop', 'bob@example.test'], { dataDir })).code, 0);
  assert.equal((await cutover(['run', '--until-idle'], { dataDir })).code, 0);
  assert.equal((await mailboxes())['bob@example.test']!.state, 'stopped');
  assert.equal((await cutover(['resume', 'bob@example.test'], { dataDir })).code, 0);
  assert.equal((await cutover(['run', '--until-idle'], { dataDir })).code, 0);
  // The domain was confirmed once; bob passes dns-cutover on the shared domain row.
  assert.equal((await mailboxes())['bob@example.test']!.state, 'done');

  const timeline = (await cutover(['status', 'acts'], { dataDir })).stdout;
  assert.match(timeline, /alice@example\.test\s+done at finalize/);
});
