import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { adoptKnownCopies } from '../../server/mail/delta/adopt.ts';
import { dbLedger } from '../../server/mail/ledger.ts';
import { insertMailbox, insertProject, tempDb, type TempDb } from './fixtures.ts';

let t: TempDb;
let mailboxA: number;
let mailboxB: number;

before(async () => {
  t = await tempDb();
  const p = await insertProject(t.db);
  mailboxA = await insertMailbox(t.db, p, 'a@example.test');
  mailboxB = await insertMailbox(t.db, p, 'b@example.test');
});
after(async () => { await t?.close(); });

const entry = (uid: number, over: Partial<Parameters<ReturnType<typeof dbLedger>['record']>[0]> = {}) => ({
  sourceFolder: 'INBOX', uidValidity: '111', uid, destFolder: 'INBOX', destUid: uid + 100, size: 10 * uid, fingerprint: `fp${uid}`, pass: 1, ...over,
});

test('record is idempotent and handledUids is per folder, UIDVALIDITY and mailbox', async () => {
  const ledger = dbLedger(t.db, mailboxA);
  await ledger.record(entry(1));
  await ledger.record(entry(2));
  await ledger.record(entry(2, { destUid: 999, pass: 2 }));
  assert.deepEqual([...(await ledger.handledUids('INBOX', '111'))].sort(), [1, 2]);
  assert.equal((await ledger.handledUids('INBOX', '222')).size, 0);
  assert.equal((await ledger.handledUids('Sent', '111')).size, 0);
  assert.equal((await dbLedger(t.db, mailboxB).handledUids('INBOX', '111')).size, 0);
  assert.deepEqual([...(await ledger.destUids('INBOX'))].sort((a, b) => a - b), [101, 102], 'the first record wins');
  assert.deepEqual(await ledger.copiedTally('INBOX', '111'), { messages: 2, bytes: 30 });
});

test('a null destination UID (no UIDPLUS) counts as handled but not as a known destination UID', async () => {
  const ledger = dbLedger(t.db, mailboxA);
  await ledger.record(entry(3, { sourceFolder: 'Archive', destFolder: 'Archive', destUid: null }));
  assert.ok((await ledger.handledUids('Archive', '111')).has(3));
  assert.equal((await ledger.destUids('Archive')).size, 0);
});

test('skips: too-big and excluded count as handled, refused is retried; a later skip of the same UID replaces the reason', async () => {
  const ledger = dbLedger(t.db, mailboxB);
  await ledger.skip({ sourceFolder: 'INBOX', uidValidity: '5', uid: 1, size: 1000, kind: 'too-big', reason: 'too big' });
  await ledger.skip({ sourceFolder: 'INBOX', uidValidity: '5', uid: 2, size: 20, kind: 'excluded', reason: 'old' });
  await ledger.skip({ sourceFolder: 'INBOX', uidValidity: '5', uid: 3, size: 30, kind: 'refused', reason: 'NO quota' });
  assert.deepEqual([...(await ledger.handledUids('INBOX', '5'))].sort(), [1, 2]);
  assert.deepEqual(await ledger.skippedTally('INBOX', '5'), { messages: 3, bytes: 1050 });
  await ledger.skip({ sourceFolder: 'INBOX', uidValidity: '5', uid: 3, size: 30, kind: 'too-big', reason: 'over the limit' });
  const row = await t.db('skips').where({ mailbox_id: mailboxB, uid: 3 }).first();
  assert.deepEqual([row.kind, row.reason], ['too-big', 'over the limit']);
  assert.ok((await ledger.handledUids('INBOX', '5')).has(3));
});

test('the ledger refuses rows for a mailbox that does not exist (foreign key)', async () => {
  await assert.rejects(dbLedger(t.db, 987654).record(entry(1)), /FOREIGN KEY|violates foreign key constraint/);
});

test('under a new UIDVALIDITY, copies are known again by fingerprint: each claimed once, for its destination folder only, rows re-keyed with their flags; a dry run writes nothing', async () => {
  const ledger = dbLedger(t.db, mailboxB);
  await ledger.recordMany([
    entry(1, { uidValidity: '7', fingerprint: 'same', flags: ['\\Seen'] }),
    entry(2, { uidValidity: '7', fingerprint: 'same', flags: [] }),
    entry(3, { uidValidity: '7', fingerprint: 'elsewhere', destFolder: 'Archive' }),
    entry(4, { uidValidity: '7', fingerprint: 'gone' }),
  ]);
  // The same two identical messages, the one the plan now sends to INBOX although it went to Archive, one new, one listed without a header.
  const listed = [{ uid: 11, fingerprint: 'same' }, { uid: 12, fingerprint: 'same' }, { uid: 13, fingerprint: 'same' }, { uid: 14, fingerprint: 'elsewhere' }, { uid: 15, fingerprint: 'new' }, { uid: 16 }];
  const dry = await adoptKnownCopies(ledger.delta!, { source: 'INBOX', dest: 'INBOX' }, '8', listed, true);
  assert.deepEqual([...dry], [11, 12]);
  assert.equal((await ledger.handledUids('INBOX', '8')).size, 0, 'a dry run re-keys nothing');
  const adopted = await adoptKnownCopies(ledger.delta!, { source: 'INBOX', dest: 'INBOX' }, '8', listed, false);
  assert.deepEqual([...adopted], [11, 12]);
  assert.deepEqual([...(await ledger.handledUids('INBOX', '8'))].sort(), [11, 12]);
  const rows = (await ledger.delta!.copies('INBOX')).map((c) => [c.uidValidity, c.uid, c.destFolder, c.destUid, c.flags]).sort((a, b) => String(a).localeCompare(String(b)));
  assert.deepEqual(rows, [['7', 3, 'Archive', 103, null], ['7', 4, 'INBOX', 104, null], ['8', 11, 'INBOX', 101, ['\\Seen']], ['8', 12, 'INBOX', 102, []]]);
  assert.equal((await adoptKnownCopies(ledger.delta!, { source: 'INBOX', dest: 'INBOX' }, '8', listed, false)).size, 0, 'rows already under the new UIDVALIDITY are not claimed again');
});

test('recordMany stores a batch in one statement, every value as given (big UIDVALIDITY, odd folder names, flags, no destination UID); a repeated row keeps the first', async () => {
  const ledger = dbLedger(t.db, mailboxA);
  const folder = `Ärchiv/"quoted" it's \\ {5}`;
  const batch = Array.from({ length: 250 }, (_, i) => entry(i + 1, {
    sourceFolder: folder, uidValidity: '4294967295', destFolder: `${folder}.dest`, destUid: i % 7 ? 5_000_000_000 + i : null,
    size: 2 ** 31 - 1 - i, fingerprint: `fp-${i}-\u00e9`, pass: 3, flags: i % 3 ? ['\\Seen', '$Label1', 'Junk'] : i % 2 ? [] : undefined,
  }));
  await ledger.recordMany(batch);
  await ledger.recordMany([{ ...batch[0]!, destUid: 1, fingerprint: 'other' }]);
  await ledger.recordMany([]);
  const rows = await t.db('ledger').where({ mailbox_id: mailboxA, source_folder: folder }).orderBy('uid');
  assert.equal(rows.length, 250);
  rows.forEach((row, i) => {
    const e = batch[i]!;
    assert.deepEqual(
      [String(row.uidvalidity), Number(row.uid), row.dest_folder, row.dest_uid === null ? null : Number(row.dest_uid), Number(row.size), row.fingerprint, Number(row.pass), row.flags],
      [e.uidValidity, e.uid, e.destFolder, e.destUid, e.size, e.fingerprint, e.pass, e.flags ? [...e.flags].sort().join(' ') : null],
    );
  });
  assert.equal((await ledger.handledUids(folder, '4294967295')).size, 250);
});

test('delta store: flags of many copies set in one statement, copies of several folders read at once (each of its generation), HIGHESTMODSEQs saved together', async () => {
  const ledger = dbLedger(t.db, mailboxB);
  const store = ledger.delta!;
  const folders = ['Flags/A', `Flags/"B" it's`];
  await ledger.recordMany(folders.flatMap((folder) => [1, 2, 3].map((uid) => entry(uid, { sourceFolder: folder, uidValidity: '4000000000', destFolder: folder, flags: ['\\Seen'] }))));
  await ledger.recordMany([entry(9, { sourceFolder: 'Flags/A', uidValidity: '12', destFolder: 'Flags/A', flags: [] })]);
  const byFolder = await store.copiesIn([...folders.map((sourceFolder) => ({ sourceFolder, uidValidity: '4000000000' })), { sourceFolder: 'Flags/none', uidValidity: '1' }]);
  assert.deepEqual([...byFolder.keys()].sort(), [...folders].sort());
  assert.deepEqual(byFolder.get('Flags/A')!.map((c) => c.uid).sort(), [1, 2, 3], 'the other generation is not read');
  const [a1, a2] = byFolder.get('Flags/A')!.sort((x, y) => x.uid - y.uid);
  const b3 = byFolder.get(folders[1]!)!.find((c) => c.uid === 3)!;
  await store.setFlags([{ copy: a1!, flags: ['\\Flagged', '\\Seen', '$Work'] }, { copy: a2!, flags: [] }, { copy: b3, flags: ['\\Answered'] }]);
  await store.setFlags([]);
  const flags = async (folder: string, uidValidity: string) => new Map((await store.copies(folder, uidValidity)).map((c) => [c.uid, c.flags]));
  assert.deepEqual([...(await flags('Flags/A', '4000000000'))].sort(), [[1, ['$Work', '\\Flagged', '\\Seen']], [2, []], [3, ['\\Seen']]]);
  assert.deepEqual([...(await flags(folders[1]!, '4000000000'))].sort(), [[1, ['\\Seen']], [2, ['\\Seen']], [3, ['\\Answered']]]);
  assert.deepEqual([...(await flags('Flags/A', '12'))], [[9, []]], 'a copy of another generation with the same folder is left alone');
  assert.deepEqual([...(await dbLedger(t.db, mailboxA).delta!.copiesIn([{ sourceFolder: 'Flags/A', uidValidity: '4000000000' }]))], [], 'another mailbox reads none of them');
  for (const folder of folders) await ledger.saveCheckpoint(folder, { uidValidity: '4000000000', uidNext: 4 });
  await store.saveModseqs(folders.map((sourceFolder, i) => ({ sourceFolder, highestModseq: String(9_000_000_000 + i) })));
  const marks = await store.marks();
  assert.deepEqual(folders.map((f) => marks.get(f)?.highestModseq), ['9000000000', '9000000001']);
});
