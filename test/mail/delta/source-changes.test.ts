import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ImapFlow } from 'imapflow';
import type { DovecotInstance } from '../../../server/devservers/dovecot.ts';
import { changesOnReader, enableQresync, folderChanges, vanishedUids } from '../../../server/mail/delta/source-changes.ts';
import { FetchReader } from '../../../server/mail/wire/fetcher.ts';
import type { KnownCopy } from '../../../server/mail/delta/store.ts';
import { dovecotAccounts, login, type Account } from '../../interop/support.ts';
import { endpointOf, put, withClient } from './support.ts';

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

test('our own session with QRESYNC: every changed folder asked at once finds what imapflow finds, folder by folder', async () => {
  const account = server.accounts[0]!;
  const folders = ['Left', 'Right'];
  const before = new Map<string, { known: KnownCopy[]; mark: { uidValidity: string; uidNext: number; highestModseq: string }; uids: number[] }>();
  for (const folder of folders) {
    const uids = await put(account, folder, Array.from({ length: 6 }, (_, i) => ({ subject: `${folder} ${i}` })));
    const status = await withClient(account, (client) => client.status(folder, { uidValidity: true, uidNext: true, highestModseq: true }));
    assert.ok(status, `STATUS of ${folder}`);
    const mark = { uidValidity: String(status.uidValidity), uidNext: Number(status.uidNext), highestModseq: String(status.highestModseq) };
    before.set(folder, { uids, mark, known: uids.map((uid) => ({ sourceFolder: folder, uidValidity: mark.uidValidity, uid, destFolder: folder, destUid: uid, flags: [], fingerprint: `f${uid}`, size: 1, pass: 1 })) });
  }
  await withClient(account, async (client) => {
    for (const [i, folder] of folders.entries()) {
      const { uids } = before.get(folder)!;
      const lock = await client.getMailboxLock(folder);
      try {
        await client.messageFlagsAdd(String(uids[i]), ['\\Seen', '$Label1'], { uid: true });
        await client.messageDelete(String(uids[4 - i]), { uid: true });
      } finally {
        lock.release();
      }
    }
  });
  const due = folders.map((path) => ({ path, known: before.get(path)!.known, highestModseq: before.get(path)!.mark.highestModseq }));
  const shape = (c: { flags: Array<{ copy: KnownCopy; flags: string[] }>; vanished: KnownCopy[] }) => ({
    flags: c.flags.map((f) => [f.copy.uid, f.flags.filter((x) => x !== '\\Recent').sort().join(' ')]),
    vanished: c.vanished.map((v) => v.uid).sort((a, b) => a - b),
  });
  const byImapflow = [];
  for (const folder of folders) byImapflow.push(shape(await withClient(account, async (client) => {
    const lock = await client.getMailboxLock(folder, { readOnly: true });
    try { return await folderChanges(client, before.get(folder)!.known, before.get(folder)!.mark, true); } finally { lock.release(); }
  })));
  const reader = await FetchReader.connect(endpointOf(account));
  try {
    assert.equal(await reader.enable('QRESYNC'), true);
    assert.deepEqual((await changesOnReader(reader, due)).map(shape), byImapflow);
  } finally {
    await reader.logout();
  }
  assert.deepEqual(byImapflow.map((c) => c.vanished), folders.map((f, i) => [before.get(f)!.uids[4 - i]]));
  assert.deepEqual(byImapflow.map((c) => c.flags), folders.map((f, i) => [[before.get(f)!.uids[i], '$Label1 \\Seen']]));
  // A folder the server refuses fails the whole question: a partial answer would read as "nothing changed".
  const refusing = await FetchReader.connect(endpointOf(account));
  try {
    await refusing.enable('QRESYNC');
    await assert.rejects(changesOnReader(refusing, [...due, { path: 'Nowhere', known: due[0]!.known, highestModseq: '1' }]), /NO/);
  } finally {
    await refusing.logout();
  }
});

test('VANISHED (EARLIER) names only known UIDs, however wide the ranges a server sends', () => {
  const line = (text: string) => ({ parts: [`* VANISHED (EARLIER) ${text}`], literals: [] });
  assert.deepEqual([...vanishedUids([line('1:4294967295')], [3, 9, 12])].sort((a, b) => a - b), [3, 9, 12]);
  assert.deepEqual([...vanishedUids([line('10:4,12'), line('99')], [3, 4, 9, 12, 13])].sort((a, b) => a - b), [4, 9, 12]);
  assert.deepEqual([...vanishedUids([line('1:x')], [1, 2])], [], 'a set that does not parse removes nothing');
});
