import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { DovecotInstance } from '../../server/devservers/dovecot.ts';
import { openStateLedger } from '../../server/mail/state-file.ts';
import { startDelayProxy, type DelayProxy } from '../bench/delay-proxy.ts';
import { dovecotAccounts, type Account } from '../interop/support.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';
import { pass, put, withClient } from './delta/support.ts';

// Round trips to a distant destination. The folder set-up: every CREATE and SUBSCRIBE written at
// once, no SUBSCRIBE undone by an UNSUBSCRIBE, INBOX's subscription without an LSUB, nothing at
// all on a re-run. The destination is reached through a 100 ms RTT delay proxy, with a recording proxy in
// front of it that sees when each command was sent.
const RTT_MS = 100;

let source: { inst: DovecotInstance; accounts: Account[] };
let dest: { inst: DovecotInstance; accounts: Account[] };
let delayed: DelayProxy;
let recorder: TcpProxy;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cutover-setup-'));
  [source, dest] = await Promise.all([dovecotAccounts(['setup@example.test']), dovecotAccounts(['setup@example.test'])]);
  delayed = await startDelayProxy({ port: dest.inst.port }, RTT_MS);
  recorder = await startTcpProxy(delayed.port);
});

after(async () => {
  await recorder?.stop();
  await delayed?.close();
  await Promise.all([source?.inst.stop(), dest?.inst.stop()]);
  await rm(dir, { recursive: true, force: true });
});

const FOLDERS = ['Sent', 'Projects', 'Projects/2024', 'Reçus', 'Quiet', 'Lists', 'Lists/dev', 'Lists/ops'];

async function subscribed(account: Account): Promise<string[]> {
  return withClient(account, async (client) => (await client.list()).filter((f) => f.subscribed && f.path !== 'INBOX').map((f) => f.path).sort());
}

test('folder set-up goes out pipelined in one round trip, never unsubscribes what it subscribed, and a re-run sends none of it', async () => {
  const from = source.accounts[0]!;
  const to = dest.accounts[0]!;
  for (const folder of FOLDERS) await put(from, folder, [{ subject: `in ${folder}` }]);
  await withClient(from, (client) => client.mailboxUnsubscribe('Quiet'));
  const state = await openStateLedger(join(dir, 'setup.sqlite'));
  try {
    const first = await pass(from, to, state.ledger, 1, { deletes: true }, { dest: recorder.port });
    assert.equal(first.copied, FOLDERS.length);
    const setup = recorder.commands.filter((c) => ['CREATE', 'SUBSCRIBE', 'UNSUBSCRIBE', 'LSUB'].includes(c.verb));
    assert.equal(setup.filter((c) => c.verb === 'UNSUBSCRIBE').length, 0, 'no SUBSCRIBE is undone');
    assert.equal(setup.filter((c) => c.verb === 'LSUB').length, 0, 'INBOX subscription is not asked for');
    const creates = setup.filter((c) => c.verb === 'CREATE');
    // The test Dovecot creates Sent, Drafts, Trash and Junk itself (auto = subscribe): the other folders need a CREATE.
    assert.equal(creates.length, FOLDERS.length - 1, `CREATE commands: ${creates.map((c) => c.line).join('; ')}`);
    assert.equal(new Set(creates.map((c) => c.line.split(' ').slice(2).join(' '))).size, creates.length, 'each folder created once');
    // Subscribed on the source: every folder but Quiet; Sent is subscribed on the destination already (auto = subscribe).
    assert.equal(setup.filter((c) => c.verb === 'SUBSCRIBE').length, FOLDERS.length - 2 + 1, 'every subscribed folder not yet subscribed, and INBOX, each once');
    assert.equal(new Set(setup.map((c) => c.connection)).size, 1, 'on one session');
    const spread = Math.max(...setup.map((c) => c.at)) - Math.min(...setup.map((c) => c.at));
    // One command at a time, the last would leave (2 × folders) round trips after the first.
    assert.ok(spread < RTT_MS, `set-up commands written within ${spread} ms of each other (one at a time would take ${setup.length - 1} round trips of ${RTT_MS} ms)`);
    assert.deepEqual(await subscribed(to), (await subscribed(from)));
    assert.ok(!(await subscribed(to)).includes('Quiet'));

    const before = recorder.commands.length;
    const again = await pass(from, to, state.ledger, 2, { deletes: true }, { dest: recorder.port });
    assert.equal(again.copied, 0);
    const rerun = recorder.commands.slice(before).map((c) => c.verb);
    assert.deepEqual(rerun.filter((v) => ['CREATE', 'SUBSCRIBE', 'UNSUBSCRIBE', 'LSUB'].includes(v)), [], `a re-run sends no set-up command (sent: ${rerun.join(' ')})`);

  } finally {
    await state.close();
  }
});
