import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { rollback, rollbackPlan, syncPoints, uidSet } from '../../server/services/rollback.ts';
import { imapAs, rawMessage, seed, snapshot, type FolderSnapshot } from '../support/mail.ts';
import { atStep, startMigration, type Migration } from '../support/mailbox-migration.ts';

const ALICE = { address: 'alice@example.test', password: 'alice-pw' };
const OLD_ADDRESS = 'alice01@example.test';
let m: Migration;
let afterCopy: FolderSnapshot[];

const msg = (folder: string, subject: string) => ({ folder, raw: rawMessage({ subject }), flags: [] as string[], date: new Date('2024-10-02T10:00:00Z') });

async function counts(inst: Migration['land']['new'], address: string): Promise<Record<string, number>> {
  const client = await imapAs(inst, address);
  try {
    const out: Record<string, number> = {};
    for (const f of await client.list()) {
      const status = await client.status(f.path, { messages: true });
      out[f.path] = status ? status.messages ?? 0 : -1;
    }
    return out;
  } finally {
    await client.logout();
  }
}

const hashes = (folders: FolderSnapshot[]) => Object.fromEntries(folders.map((f) => [f.path, f.messages.map((x) => x.sha256).sort()]));

before(async () => {
  m = await startMigration({ accounts: [ALICE] });
  await seed(m.land.old, ALICE.address, [msg('INBOX', 'first 1'), msg('INBOX', 'first 2'), msg('INBOX', 'first 3'), msg('Archive', 'first 4')]);
  // The copy and verify (pass 1), up to the delta passes.
  await m.runUntil(ALICE.address, atStep('delta-sync'));
  afterCopy = await snapshot(m.land.new, ALICE.address);
  // Mail still landing on the old (renamed) account during the overlap: the delta pass (pass 2) copies it.
  await seed(m.land.old, OLD_ADDRESS, [msg('INBOX', 'late 1'), msg('INBOX', 'late 2'), msg('Archive', 'late 3')]);
  await m.runUntil(ALICE.address, (row) => row.sync_passes === 2);
});
after(async () => { await m?.close(); });

test('uid sets are compact ranges', () => {
  assert.equal(uidSet([9, 3, 4, 5, 7, 12, 13, 14, 4]), '3:5,7,9,12:14');
  assert.equal(uidSet([1]), '1');
});

test('the copy pass and the delta pass are sync points with their times and message counts', async () => {
  const points = await syncPoints(m.app.db, (await m.mailbox(ALICE.address)).id);
  assert.deepEqual(points.map((p) => [p.pass, p.step, p.messages]), [[1, 'copy-mail', 4], [2, 'delta-sync', 3]]);
  for (const p of points) {
    assert.ok(p.startedAt && p.finishedAt && p.startedAt <= p.finishedAt, `pass ${p.pass} has its times`);
    assert.ok(p.bytes > 0);
  }
});

test('rollback without confirmation deletes nothing', async () => {
  const id = (await m.mailbox(ALICE.address)).id;
  const before = await counts(m.land.new, ALICE.address);
  await assert.rejects(rollback(m.app, id, 2, { confirm: false, actor: 'web:root' }), { code: 'CONFIRMATION_REQUIRED' });
  assert.deepEqual(await counts(m.land.new, ALICE.address), before);
  assert.equal(Number((await m.app.db('ledger').where({ mailbox_id: id }).count({ n: '*' }))[0]!.n), 7);
  await assert.rejects(rollbackPlan(m.app, id, 9), { code: 'SYNC_POINT_UNKNOWN' });
});

test('rollback is refused while a worker holds the mailbox', async () => {
  const id = (await m.mailbox(ALICE.address)).id;
  await m.app.db('mailboxes').where({ id }).update({ locked_by: 'elsewhere:1:x', locked_until: Date.now() + 60_000 });
  try {
    await assert.rejects(rollback(m.app, id, 2, { confirm: true, actor: 'web:root' }), { code: 'MAILBOX_BUSY' });
  } finally {
    await m.app.db('mailboxes').where({ id }).update({ locked_by: null, locked_until: null });
  }
  assert.equal((await counts(m.land.new, ALICE.address)).INBOX, 5);
});

test('rollback since the delta pass deletes exactly its messages on the destination, leaves the source and the copy alone, and the next delta copies them again', async () => {
  const row = await m.mailbox(ALICE.address);
  const sourceBefore = await snapshot(m.land.old, OLD_ADDRESS);
  const before = await counts(m.land.new, ALICE.address);
  assert.deepEqual([before.INBOX, before.Archive], [5, 2]);

  const plan = await rollbackPlan(m.app, row.id, 2);
  assert.deepEqual(plan.folders.map((f) => [f.folder, f.messages]), [['Archive', 1], ['INBOX', 2]]);
  assert.equal(plan.messages, 3);

  const done = await rollback(m.app, row.id, 2, { confirm: true, actor: 'web:root' });
  assert.deepEqual([done.deleted, done.alreadyGone], [3, 0]);
  const now = await counts(m.land.new, ALICE.address);
  assert.deepEqual([now.INBOX, now.Archive], [3, 1]);
  assert.deepEqual(hashes(await snapshot(m.land.new, ALICE.address)), hashes(afterCopy), 'exactly the first copy is left on the destination');
  assert.deepEqual(await snapshot(m.land.old, OLD_ADDRESS), sourceBefore, 'the source is untouched');

  const ledger = await m.app.db('ledger').where({ mailbox_id: row.id }).select('pass');
  assert.deepEqual(ledger.map((l) => Number(l.pass)), [1, 1, 1, 1]);
  const points = await syncPoints(m.app.db, row.id);
  assert.ok(points.find((p) => p.pass === 2)!.rolledBackAt);
  const event = await m.app.db('events').where({ mailbox_id: row.id, outcome: 'rollback' }).first();
  assert.equal(event.actor, 'web:root');
  assert.match(event.message, /deleted on the destination 3 message\(s\) copied since sync point 2: Archive \(1\), INBOX \(2\)/);

  // A second run finds nothing left to delete.
  const twice = await rollback(m.app, row.id, 2, { confirm: true, actor: 'web:root' });
  assert.deepEqual([twice.messages, twice.deleted], [0, 0]);
  assert.deepEqual([(await counts(m.land.new, ALICE.address)).INBOX, (await counts(m.land.new, ALICE.address)).Archive], [3, 1]);

  // The next delta pass copies them again, under a pass number of its own.
  await m.app.db('mailboxes').where({ id: row.id }).update({ state: 'queued', next_run_at: 0 });
  await m.runUntil(ALICE.address, (r) => r.sync_passes === 3);
  const again = await counts(m.land.new, ALICE.address);
  assert.deepEqual([again.INBOX, again.Archive], [5, 2]);
  assert.deepEqual(hashes(await snapshot(m.land.new, ALICE.address)), hashes(await snapshot(m.land.old, OLD_ADDRESS)), 'every message once, none twice');
  const passes = (await syncPoints(m.app.db, row.id)).map((p) => [p.pass, p.messages]);
  assert.deepEqual(passes, [[1, 4], [2, 0], [3, 3]]);
});
