import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
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
