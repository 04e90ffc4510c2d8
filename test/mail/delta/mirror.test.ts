import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startCourier } from '../../../server/devservers/courier.ts';
import type { DovecotInstance } from '../../../server/devservers/dovecot.ts';
import type { ImapServerInstance } from '../../../server/devservers/imap-server.ts';
import { mirrorActions } from '../../../server/mail/delta/mirror.ts';
import { openStateLedger } from '../../../server/mail/state-file.ts';
import { copier, DOVECOT_NS, dovecotAccounts, serverAccounts } from '../../interop/support.ts';
import { cutover } from '../../support/cli.ts';
import { startTcpProxy, type TcpProxy } from '../../support/tcp-proxy.ts';
import { holdings, pass, put, withClient, without, type Account } from './support.ts';

delete process.env.CUTOVER_CRASH_AT;

const COURIER_NS = { prefix: 'INBOX.', delimiter: '.' };
let source: { inst: DovecotInstance; accounts: Account[] };
let dest: { inst: DovecotInstance; accounts: Account[] };
let courier: ImapServerInstance;
let courierAccounts: Account[];
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cutover-delta-'));
  const users = ['scenario', 'guards', 'keep', 'cli', 'cut', 'rename', 'flags'].map((u) => `${u}@example.test`);
  [source, dest, courier] = await Promise.all([dovecotAccounts(users), dovecotAccounts([...users, 'fromcourier@example.test']), startCourier()]);
  courierAccounts = await serverAccounts(courier, ['scenario@example.test']);
});

after(async () => {
  await Promise.all([source?.inst.stop(), dest?.inst.stop(), courier?.stop()]);
  await rm(dir, { recursive: true, force: true });
});

const account = (side: { accounts: Account[] }, user: string) => side.accounts.find((a) => a.user === `${user}@example.test`)!;

/**
 * The issue's case: flags and keywords set on 10 messages, \Seen cleared on 3, 3 expunged, 1 moved
 * to another folder, 1 new. The second pass must leave the destination identical to the source
 * (a message delivered to the destination directly stays); a third pass changes nothing.
 */
async function issueScenario(from: Account, ns: { prefix: string; delimiter: string }, to: Account, stateFile: string) {
  const archive = ns.prefix ? `${ns.prefix}Archive` : 'Archive';
  const inbox = await put(from, 'INBOX', Array.from({ length: 20 }, (_, i) => ({ subject: `message ${i + 1}`, flags: i < 6 ? ['\\Seen'] : [] })));
  await put(from, archive, [{ subject: 'archived 1' }, { subject: 'archived 2' }]);
  await put(to, 'INBOX', [{ subject: 'delivered to the new server directly' }]);
  const foreign = await holdings(to, DOVECOT_NS);
  const state = await openStateLedger(stateFile);
  try {
    const first = await pass(from, to, state.ledger, 1);
    assert.equal(first.copied, 22);
    await withClient(from, async (client) => {
      const lock = await client.getMailboxLock('INBOX');
      try {
        await client.messageFlagsAdd(inbox.slice(6, 16).join(','), ['\\Flagged', '$Work'], { uid: true });
        await client.messageFlagsRemove(inbox.slice(0, 3).join(','), ['\\Seen'], { uid: true });
        await client.messageDelete(inbox.slice(16, 19).join(','), { uid: true });
        await client.messageMove(String(inbox[19]), archive, { uid: true });
      } finally {
        lock.release();
      }
    });
    await put(from, 'INBOX', [{ subject: 'new between passes' }]);

    const second = await pass(from, to, state.ledger, 2);
    const third = await pass(from, to, state.ledger, 3);
    return { first, second, third, source: await holdings(from, ns), dest: without(await holdings(to, DOVECOT_NS), foreign), foreign };
  } finally {
    await state.close();
  }
}

test('Dovecot (CONDSTORE) → Dovecot: the second pass makes the destination identical, flags, expunges and the move included; a third changes nothing', async () => {
  const r = await issueScenario(account(source, 'scenario'), DOVECOT_NS, account(dest, 'scenario'), join(dir, 'dovecot.sqlite'));
  assert.deepEqual(r.dest, r.source);
  assert.equal(r.second.copied, 1, 'only the new message is copied (the moved one is moved, not copied again)');
  const m = r.second.mirror!;
  assert.deepEqual({ flags: m.flags, deleted: m.deleted, moved: m.moved, keptChanged: m.keptChanged, keptForeign: m.keptForeign }, { flags: 13, deleted: 3, moved: 1, keptChanged: 0, keptForeign: 0 });
  console.log(`# issue scenario on Dovecot: ${JSON.stringify({ flags: m.flags, deleted: m.deleted, moved: m.moved, copied: r.second.copied, mirrorSeconds: m.seconds, passSeconds: r.second.seconds })}`);
  assert.equal(r.third.copied, 0);
  assert.equal(mirrorActions(r.third.mirror!), 0);
  assert.equal(r.third.mirror!.foldersScanned, 0, 'CONDSTORE: no folder is looked at when HIGHESTMODSEQ has not moved');
});

test('flag changes in three folders: one connection of our own on each side, the source asked in one round trip, no imapflow session anywhere', async () => {
  const from = account(source, 'flags');
  const to = account(dest, 'flags');
  const folders = ['INBOX', 'Work', 'Later'];
  const uids = new Map<string, number[]>();
  for (const folder of folders) uids.set(folder, await put(from, folder, Array.from({ length: 30 }, (_, i) => ({ subject: `${folder} ${i}` }))));
  const state = await openStateLedger(join(dir, 'flags.sqlite'));
  try {
    assert.equal((await pass(from, to, state.ledger, 1)).copied, 90);
    await withClient(from, async (client) => {
      for (const folder of folders) {
        const lock = await client.getMailboxLock(folder);
        try {
          await client.messageFlagsAdd(uids.get(folder)!.slice(0, 20).join(','), ['\\Seen', '$Done'], { uid: true });
        } finally {
          lock.release();
        }
      }
    });
    const [sourceVia, destVia] = await Promise.all([startTcpProxy(from.port), startTcpProxy(to.port)]);
    try {
      const second = await pass(from, to, state.ledger, 2, { deletes: true }, { source: sourceVia.port, dest: destVia.port });
      assert.equal(second.mirror!.flags, 60);
      assert.deepEqual(await holdings(to, DOVECOT_NS), await holdings(from, DOVECOT_NS));
      const sent = (via: TcpProxy) => via.commands.map((c) => c.verb);
      for (const [side, via] of [['source', sourceVia], ['destination', destVia]] as const) {
        assert.equal(via.accepted, 1, `${side}: one connection (${sent(via).join(' ')})`);
        assert.ok(!sent(via).includes('ID'), `${side}: no imapflow session (${sent(via).join(' ')})`);
      }
      assert.deepEqual(sent(sourceVia).filter((v) => v === 'EXAMINE' || v === 'UID').length, 6, 'an EXAMINE and a UID FETCH a folder');
      assert.deepEqual(sent(destVia).filter((v) => v === 'SELECT').length, 3);
      // Login, listing, ENABLE, then every folder's EXAMINE and FETCH at once.
      console.log(`# flags in 3 folders: source ${sourceVia.roundTrips} round trips, destination ${destVia.roundTrips} (${JSON.stringify(sent(destVia))})`);
      assert.ok(sourceVia.roundTrips <= 5, `source round trips: ${sourceVia.roundTrips}`);
    } finally {
      await Promise.all([sourceVia.stop(), destVia.stop()]);
    }
  } finally {
    await state.close();
  }
});

test('Courier (no CONDSTORE) → Dovecot: the same case through a bounded FLAGS fetch of the known UIDs', async () => {
  const r = await issueScenario(courierAccounts[0]!, COURIER_NS, account(dest, 'fromcourier'), join(dir, 'courier.sqlite'));
  assert.deepEqual(r.dest, r.source);
  const m = r.second.mirror!;
  console.log(`# issue scenario on Courier: ${JSON.stringify({ flags: m.flags, deleted: m.deleted, moved: m.moved, copied: r.second.copied, mirrorSeconds: m.seconds, passSeconds: r.second.seconds })}`);
  assert.equal(m.flags, 13);
  assert.equal(m.deleted + m.moved, 4);
  assert.equal(r.third.copied, 0);
  assert.equal(mirrorActions(r.third.mirror!), 0);
});

async function expunge(from: Account, folder: string, uids: number[]): Promise<void> {
  await withClient(from, async (client) => {
    const lock = await client.getMailboxLock(folder);
    try {
      await client.messageDelete(uids.join(','), { uid: true });
    } finally {
      lock.release();
    }
  });
}

test('deletions: a copy that was on the destination already and a copy the user changed there are kept; only untouched copies of ours go', async () => {
  const from = account(source, 'guards');
  const to = account(dest, 'guards');
  const uids = await put(from, 'INBOX', [{ subject: 'already there' }, { subject: 'changed on the destination' }, { subject: 'plain' }, { subject: 'stays' }]);
  // The first message reached the destination by another path before the migration: same bytes, same date.
  const raw = await withClient(from, async (client) => {
    const lock = await client.getMailboxLock('INBOX', { readOnly: true });
    try {
      const msg = await client.fetchOne(String(uids[0]), { source: true, internalDate: true }, { uid: true });
      return msg ? { source: msg.source!, date: new Date(msg.internalDate!) } : undefined;
    } finally {
      lock.release();
    }
  });
  await withClient(to, (client) => client.append('INBOX', raw!.source, [], raw!.date));
  const state = await openStateLedger(join(dir, 'guards.sqlite'));
  try {
    const first = await pass(from, to, state.ledger, 1);
    assert.equal(first.matched, 1);
    assert.equal(first.copied, 3);
    // The user flags the second copy on the new server.
    await withClient(to, async (client) => {
      const lock = await client.getMailboxLock('INBOX');
      try {
        const found = await client.search({ header: { subject: 'changed on the destination' } }, { uid: true });
        await client.messageFlagsAdd((found || []).join(','), ['$Important'], { uid: true });
      } finally {
        lock.release();
      }
    });
    await expunge(from, 'INBOX', uids.slice(0, 3));
    const second = await pass(from, to, state.ledger, 2);
    const m = second.mirror!;
    assert.deepEqual({ deleted: m.deleted, keptChanged: m.keptChanged, keptForeign: m.keptForeign }, { deleted: 1, keptChanged: 1, keptForeign: 1 });
    const left = (await holdings(to, DOVECOT_NS)).INBOX!;
    assert.equal(left.length, 3, 'the matched copy, the changed copy and the message still on the source');
    const third = await pass(from, to, state.ledger, 3);
    assert.equal(mirrorActions(third.mirror!), 0);
    assert.equal((await holdings(to, DOVECOT_NS)).INBOX!.length, 3);
  } finally {
    await state.close();
  }
});

test('with deletions not mirrored (--no-mirror-deletes) nothing is removed or moved, and flags still follow', async () => {
  const from = account(source, 'keep');
  const to = account(dest, 'keep');
  const uids = await put(from, 'INBOX', [{ subject: 'one' }, { subject: 'two' }, { subject: 'three' }]);
  const state = await openStateLedger(join(dir, 'keep.sqlite'));
  try {
    await pass(from, to, state.ledger, 1, { deletes: false });
    await withClient(from, async (client) => {
      const lock = await client.getMailboxLock('INBOX');
      try {
        await client.messageFlagsAdd(String(uids[2]), ['\\Answered'], { uid: true });
        await client.mailboxCreate('Elsewhere');
        assert.ok(await client.messageMove(String(uids[1]), 'Elsewhere', { uid: true }));
        await client.messageDelete(String(uids[0]), { uid: true });
      } finally {
        lock.release();
      }
    });
    const second = await pass(from, to, state.ledger, 2, { deletes: false });
    const m = second.mirror!;
    assert.deepEqual({ flags: m.flags, deleted: m.deleted, moved: m.moved, keptByOption: m.keptByOption }, { flags: 1, deleted: 0, moved: 0, keptByOption: 2 });
    const held = await holdings(to, DOVECOT_NS);
    assert.equal(held.INBOX!.length, 3, 'the expunged and the moved message stay in INBOX');
    assert.equal(held.Elsewhere!.length, 1, 'the moved message is copied to its new folder');
    assert.ok(held.INBOX!.some((line) => line.endsWith(' \\Answered')));
  } finally {
    await state.close();
  }
});

test('cutover copy --state: a re-run mirrors source changes and says so in --json; --no-mirror-deletes keeps the copies', async () => {
  const from = account(source, 'cli');
  const to = account(dest, 'cli');
  const uids = await put(from, 'INBOX', [{ subject: 'kept for good' }, { subject: 'mirrored later' }]);
  const copy = copier(from, to);
  const runWith = async (extra: string[]) => {
    const args = ['copy', '--source', `imap://${encodeURIComponent(from.user)}@127.0.0.1:${from.port}`, '--source-password-file', join(copy.state, '..', 'from'),
      '--dest', `imap://${encodeURIComponent(to.user)}@127.0.0.1:${to.port}`, '--dest-password-file', join(copy.state, '..', 'to'), '--json', '--state', copy.state, ...extra];
    const result = await cutover(args, { dataDir: join(copy.state, '..'), timeoutMs: 60_000 });
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout.trim().split('\n').pop()!) as { copied: number; mirror: { deleted: number; keptByOption: number; flags: number } };
  };
  try {
    assert.equal((await copy.run()).report?.copied, 2);
    await expunge(from, 'INBOX', [uids[0]!]);
    const kept = await runWith(['--no-mirror-deletes']);
    assert.equal(kept.mirror.keptByOption, 1);
    assert.equal(kept.mirror.deleted, 0);
    assert.equal((await holdings(to, DOVECOT_NS)).INBOX!.length, 2);
    // What was kept stays kept; what the source expunges from now on goes.
    await expunge(from, 'INBOX', [uids[1]!]);
    const mirrored = await runWith([]);
    assert.equal(mirrored.mirror.deleted, 1);
    assert.equal(mirrored.copied, 0);
    assert.equal((await holdings(to, DOVECOT_NS)).INBOX!.length, 1);
  } finally {
    copy.cleanup();
  }
});

test('a delta pass killed (kill -9) right after its STORE, its MOVE and its UID EXPUNGE reached the server ends identical on re-run, and another re-run changes nothing', async () => {
  const from = account(source, 'cut');
  const to = account(dest, 'cut');
  const uids = await put(from, 'INBOX', Array.from({ length: 12 }, (_, i) => ({ subject: `cut ${i}` })));
  const copy = copier(from, to);
  try {
    assert.equal((await copy.run()).report?.copied, 12);
    await withClient(from, async (client) => {
      const lock = await client.getMailboxLock('INBOX');
      try {
        await client.messageFlagsAdd(uids.slice(0, 6).join(','), ['\\Seen', '$Done'], { uid: true });
        await client.mailboxCreate('Filed');
        assert.ok(await client.messageMove(String(uids[11]), 'Filed', { uid: true }));
        await client.messageDelete(uids.slice(6, 9).join(','), { uid: true });
      } finally {
        lock.release();
      }
    });
    // Each run dies after the server acted and before the ledger says so; the next one picks up from there.
    for (const point of ['delta:after-move', 'delta:after-store', 'delta:after-expunge']) {
      const killed = await copy.run({ crashAt: point });
      assert.equal(killed.result.signal, 'SIGKILL', `${point} was reached`);
    }
    const resumed = await copy.run();
    assert.equal(resumed.result.code, 0, resumed.result.stderr);
    assert.deepEqual(await holdings(to, DOVECOT_NS), await holdings(from, DOVECOT_NS));
    const again = await copy.run();
    const report = again.report as unknown as { copied: number; mirror: Parameters<typeof mirrorActions>[0] };
    assert.equal(report.copied, 0);
    assert.equal(mirrorActions(report.mirror), 0);
    assert.equal(report.mirror.keptChanged, 0, 'a copy left flagged \\Deleted by the kill is not taken for one the user changed');
    assert.deepEqual(await holdings(to, DOVECOT_NS), await holdings(from, DOVECOT_NS));
  } finally {
    copy.cleanup();
  }
});

async function destUids(account: Account, folder: string): Promise<number[]> {
  return withClient(account, async (client) => {
    const lock = await client.getMailboxLock(folder, { readOnly: true });
    try {
      return ((await client.search({ all: true }, { uid: true })) || []).sort((a, b) => a - b);
    } finally {
      lock.release();
    }
  });
}

test('a folder renamed on the source between passes is renamed on the destination (its child too): no message moved or copied again, UIDs kept, the ledger follows', async () => {
  const from = account(source, 'rename');
  const to = account(dest, 'rename');
  await put(from, 'Projects', Array.from({ length: 4 }, (_, i) => ({ subject: `project ${i}` })));
  await put(from, 'Projects/2024', [{ subject: 'old project 1' }, { subject: 'old project 2' }]);
  const state = await openStateLedger(join(dir, 'rename.sqlite'));
  try {
    assert.equal((await pass(from, to, state.ledger, 1)).copied, 6);
    const before = { parent: await destUids(to, 'Projects'), child: await destUids(to, 'Projects/2024') };
    await withClient(from, (client) => client.mailboxRename('Projects', 'Work'));
    await put(from, 'Work', [{ subject: 'new after the rename' }]);

    const second = await pass(from, to, state.ledger, 2);
    const m = second.mirror!;
    assert.deepEqual(m.foldersRenamed, ['Projects → Work', 'Projects/2024 → Work/2024']);
    assert.deepEqual({ moved: m.moved, deleted: m.deleted, copied: second.copied }, { moved: 0, deleted: 0, copied: 1 }, 'only the new message is copied');
    assert.deepEqual(await holdings(to, DOVECOT_NS), await holdings(from, DOVECOT_NS));
    const folders = await withClient(to, async (client) => (await client.list()).map((f) => f.path));
    assert.ok(!folders.some((f) => f.startsWith('Projects')), `no folder left under the old name: ${folders.join(', ')}`);
    assert.deepEqual((await destUids(to, 'Work')).slice(0, 4), before.parent, 'the copies kept their UIDs: renamed, not copied again');
    assert.deepEqual(await destUids(to, 'Work/2024'), before.child);

    const third = await pass(from, to, state.ledger, 3);
    assert.equal(third.copied, 0);
    assert.equal(mirrorActions(third.mirror!), 0);
    assert.deepEqual(await holdings(to, DOVECOT_NS), await holdings(from, DOVECOT_NS));
  } finally {
    await state.close();
  }
});
