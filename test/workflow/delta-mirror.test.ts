import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { mailboxEvents } from '../../server/db/repos/events.ts';
import { imapAs, rawMessage, seed, snapshot } from '../support/mail.ts';
import { atStep, startMigration, type Migration } from '../support/mailbox-migration.ts';

const ALICE = { address: 'alice@example.test', password: 'alice-pw' };
// The old account after rename-source: where the user keeps working during the overlap window.
const OLD_ADDRESS = 'alice01@example.test';
let m: Migration;

const msg = (folder: string, subject: string) => ({ folder, raw: rawMessage({ subject }), flags: [] as string[], date: new Date('2024-10-02T10:00:00Z') });
const view = (folders: Awaited<ReturnType<typeof snapshot>>) => Object.fromEntries(folders.filter((f) => f.messages.length).map((f) => [f.path, f.messages.map((x) => `${x.sha256} ${x.flags.join(' ')}`).sort()]));

before(async () => {
  m = await startMigration({ accounts: [ALICE] });
  await seed(m.land.old, ALICE.address, [msg('INBOX', 'one'), msg('INBOX', 'two'), msg('INBOX', 'three'), msg('Archive', 'four')]);
  await m.runUntil(ALICE.address, atStep('delta-sync'));
});
after(async () => { await m?.close(); });

test('the delta-sync step mirrors flags, expunges and moves on the old account and puts the counts on the timeline', async () => {
  const client = await imapAs(m.land.old, OLD_ADDRESS);
  try {
    const lock = await client.getMailboxLock('INBOX');
    try {
      await client.messageFlagsAdd('1', ['\\Flagged', '$Todo'], { uid: true });
      await client.messageDelete('2', { uid: true });
      assert.ok(await client.messageMove('3', 'Archive', { uid: true }));
    } finally {
      lock.release();
    }
  } finally {
    await client.logout();
  }
  const row = await m.runUntil(ALICE.address, (r) => r.sync_passes >= 2);
  assert.deepEqual(view(await snapshot(m.land.new, ALICE.address)), view(await snapshot(m.land.old, OLD_ADDRESS)));
  const mirrored = (await mailboxEvents(m.app.db, row.id)).filter((e) => e.outcome === 'mirrored');
  assert.equal(mirrored.length, 1);
  assert.match(mirrored[0]!.message!, /flags updated on 1, 1 deleted \(expunged on the source\), 1 moved/);
});
