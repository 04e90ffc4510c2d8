import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { addDomain, addMailbox, startDovecot, type DovecotInstance } from '../../server/devservers/dovecot.ts';
import { copyMailbox } from '../../server/mail/copy.ts';
import { closeQuietly, openImap } from '../../server/mail/imap.ts';
import { buildFolderPlan } from '../../server/mail/plan.ts';
import { openStateLedger } from '../../server/mail/state-file.ts';
import type { ImapEndpoint } from '../../server/plugins/contract.ts';
import { rawMessage, seed, snapshot } from '../support/mail.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';

// Issue #12: a large message downloading slowly is not a stall. The source reader (FetchReader)
// streams it into the spool chunk by chunk; each chunk is progress for the folder's watchdog, so a
// download longer than the stall timeout, with bytes arriving all along, ends in an exact copy.

const DOMAIN = 'example.test';
const PASSWORD = 'pw-master-login';
const STALL_SECONDS = 3;
let inst: DovecotInstance;
let via: TcpProxy;
let workDir: string;

function endpoint(address: string, port: number): ImapEndpoint {
  return { host: '127.0.0.1', port, security: 'none', tlsVerify: false, auth: { user: `${address}*${inst.masterUser}`, pass: inst.masterPassword } };
}

before(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'cutover-large-progress-'));
  inst = await startDovecot({ separator: '/', prefix: '' });
  await addDomain(inst, DOMAIN);
  await addMailbox(inst, `from@${DOMAIN}`, PASSWORD);
  await addMailbox(inst, `to@${DOMAIN}`, PASSWORD);
  const body = `${randomBytes(4_500_000).toString('base64').match(/.{1,76}/g)!.join('\r\n')}\r\n`;
  await seed(inst, `from@${DOMAIN}`, [{ folder: 'INBOX', raw: rawMessage({ subject: 'large, slow', body }), flags: ['\\Seen'], date: new Date('2024-01-01T00:00:00Z') }]);
  via = await startTcpProxy(inst.port);
});

after(async () => {
  await via?.stop();
  await inst?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

test('a large message trickling in for longer than the stall timeout is progress, not a stall: exact copy', { timeout: 120_000 }, async (t) => {
  const a = await openImap(endpoint(`from@${DOMAIN}`, inst.port));
  const b = await openImap(endpoint(`to@${DOMAIN}`, inst.port));
  const plan = await buildFolderPlan(a, b, [], '127.0.0.1').finally(async () => { await closeQuietly(a); await closeQuietly(b); });
  const state = await openStateLedger(join(workDir, 'state.sqlite'));
  // The source sends 512 KB, then nothing for 1.2 s (under the stall timeout each time), again and again.
  let done = false;
  let pauses = 0;
  const trickle = (async () => {
    while (!done) {
      await Promise.race([via.afterBytes('down', 512 * 1024), new Promise((resolve) => setTimeout(resolve, 200))]);
      if (done) break;
      via.hold();
      pauses++;
      await new Promise((resolve) => setTimeout(resolve, 1_200));
      via.resume();
    }
  })();
  const started = Date.now();
  try {
    const report = await copyMailbox({ source: endpoint(`from@${DOMAIN}`, via.port), dest: endpoint(`to@${DOMAIN}`, inst.port), plan, ledger: state.ledger, pass: 1, stallSeconds: STALL_SECONDS });
    const seconds = (Date.now() - started) / 1000;
    t.diagnostic(`copied ${report.copied} (${report.bytes} bytes) in ${seconds.toFixed(1)} s through ${pauses} pauses, ${report.reconnects} reconnects`);
    assert.ok(seconds > 2 * STALL_SECONDS, `the download took ${seconds} s: longer than the stall timeout, or the test proves nothing`);
    assert.equal(report.copied, 1);
    assert.equal(report.reconnects, 0, 'no stall, no restart');
    assert.deepEqual(await snapshot(inst, `to@${DOMAIN}`), await snapshot(inst, `from@${DOMAIN}`));
  } finally {
    done = true;
    via.resume();
    await trickle;
    await state.close();
  }
});
