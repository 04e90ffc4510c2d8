import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ImapFlow } from 'imapflow';
import type { DovecotInstance } from '../../../server/devservers/dovecot.ts';
import { enableQresync, folderChanges } from '../../../server/mail/delta/source-changes.ts';
import type { KnownCopy } from '../../../server/mail/delta/store.ts';
import { dovecotAccounts, login, type Account } from '../../interop/support.ts';
import { put, withClient } from './support.ts';

// What changed in a source folder since the last pass, on a real Dovecot (CONDSTORE and QRESYNC):
// with QRESYNC the expunged known UIDs come as VANISHED in the same UID FETCH, so no UID SEARCH
// is sent; without it, a UID SEARCH says which known UIDs remain. Both must find the same changes.
let server: { inst: DovecotInstance; accounts: Account[] };

before(async () => {
  server = await dovecotAccounts(['changes@example.test']);
});

after(async () => {
  await server?.inst.stop();
});

async function changesSeenBy(account: Account, known: KnownCopy[], mark: { uidValidity: string; uidNext: number; highestModseq: string }, qresync: boolean) {
  const client = await login(account);
  try {
    if (qresync) await enableQresync(client);
    let searches = 0;
    const search = client.search.bind(client);
    (client as { search: ImapFlow['search'] }).search = (...args: Parameters<ImapFlow['search']>) => { searches++; return search(...args); };
    const lock = await client.getMailboxLock('Box', { readOnly: true });
    try {
      const changes = await folderChanges(client, known, mark, true);
      return { enabled: client.enabled.has('QRESYNC'), searches, flags: changes.flags.map((f) => [f.copy.uid, f.flags.filter((x) => x !== '\\Recent').sort().join(' ')]), vanished: changes.vanished.map((c) => c.uid).sort((a, b) => a - b) };
    } finally {
      lock.release();
    }
  } finally {
    await client.logout().catch(() => client.close());
  }
}

test('QRESYNC: flag changes and expunges since the stored HIGHESTMODSEQ come from one UID FETCH (VANISHED), no UID SEARCH; the same as the CONDSTORE + SEARCH way', async () => {
  const account = server.accounts[0]!;
  const uids = await put(account, 'Box', Array.from({ length: 8 }, (_, i) => ({ subject: `box ${i}` })));
  const status = await withClient(account, (client) => client.status('Box', { uidValidity: true, uidNext: true, highestModseq: true }));
  assert.ok(status, 'STATUS of Box');
  const mark = { uidValidity: String(status.uidValidity), uidNext: Number(status.uidNext), highestModseq: String(status.highestModseq) };
  const known: KnownCopy[] = uids.map((uid) => ({ sourceFolder: 'Box', uidValidity: mark.uidValidity, uid, destFolder: 'Box', destUid: uid, flags: [], fingerprint: `f${uid}`, size: 1, pass: 1 }));
  await withClient(account, async (client) => {
    const lock = await client.getMailboxLock('Box');
    try {
      await client.messageFlagsAdd(`${uids[0]},${uids[1]}`, ['\\Flagged'], { uid: true });
      await client.messageDelete(`${uids[5]},${uids[6]}`, { uid: true });
    } finally {
      lock.release();
    }
  });
  const viaVanished = await changesSeenBy(account, known, mark, true);
  const viaSearch = await changesSeenBy(account, known, mark, false);
  assert.equal(viaVanished.enabled, true, 'QRESYNC enabled on the session');
  assert.equal(viaVanished.searches, 0, 'no UID SEARCH with QRESYNC');
  assert.ok(viaSearch.searches >= 1, 'the CONDSTORE way asks with UID SEARCH');
  assert.deepEqual(viaVanished.vanished, [uids[5], uids[6]]);
  assert.deepEqual(viaVanished.flags, [[uids[0], '\\Flagged'], [uids[1], '\\Flagged']]);
  assert.deepEqual({ flags: viaVanished.flags, vanished: viaVanished.vanished }, { flags: viaSearch.flags, vanished: viaSearch.vanished });
});
