import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import { addDomain, addMailbox, startDovecot, type DovecotInstance } from '../../server/devservers/dovecot.ts';
import { copyMailbox, defaultBudget, MIN_BUDGET, type CopyReport, type Selection } from '../../server/mail/copy.ts';
import { planFolders, type FolderPlanEntry } from '../../server/mail/folders.ts';
import { closeQuietly, openImap } from '../../server/mail/imap.ts';
import { folderSide } from '../../server/mail/inventory.ts';
import { dbLedger } from '../../server/mail/ledger.ts';
import type { ImapEndpoint } from '../../server/plugins/contract.ts';
import { corpusFor } from '../support/corpus.ts';
import { imapAs, rawMessage, seed, snapshot, type FolderSnapshot, type SeedMessage, uidNexts } from '../support/mail.ts';
import { insertMailbox, insertProject, tempDb, type TempDb } from '../db/fixtures.ts';

delete process.env.CUTOVER_CRASH_AT;

const DOMAIN = 'example.test';
const PASSWORD = 'pw-not-used-master-login';

let slash: DovecotInstance; // '/' separator, no prefix, SPECIAL-USE
let courier: DovecotInstance; // '.' separator, 'INBOX.' prefix, SPECIAL-USE
let store: TempDb;
let project: { projectId: number; domainId: number };
const cleanup: TempDb[] = [];

function endpoint(inst: DovecotInstance, address: string): ImapEndpoint {
  return { host: inst.host, port: inst.port, security: 'none', tlsVerify: false, auth: { user: `${address}*${inst.masterUser}`, pass: inst.masterPassword } };
}

async function planBetween(src: DovecotInstance, srcAddr: string, dst: DovecotInstance, dstAddr: string): Promise<FolderPlanEntry[]> {
  const a = await openImap(endpoint(src, srcAddr));
  const b = await openImap(endpoint(dst, dstAddr));
  try {
    return planFolders(await folderSide(a), await folderSide(b));
  } finally {
    await closeQuietly(a);
    await closeQuietly(b);
  }
}

interface Pair { src: DovecotInstance; srcAddr: string; dst: DovecotInstance; dstAddr: string; plan: FolderPlanEntry[] }

async function runCopy(pair: Pair, mailboxId: number, opts: { pass?: number; selection?: Selection; db?: TempDb } = {}): Promise<CopyReport> {
  return copyMailbox({
    source: endpoint(pair.src, pair.srcAddr), dest: endpoint(pair.dst, pair.dstAddr), plan: pair.plan,
    ledger: dbLedger((opts.db ?? store).db, mailboxId), pass: opts.pass ?? 1, selection: opts.selection,
  });
}

async function newMailboxRow(address: string, db: TempDb = store): Promise<number> {
  const p = db === store ? project : await insertProject(db.db);
  return insertMailbox(db.db, p, `${address}.${Math.random().toString(36).slice(2, 8)}`);
}

/** A ledger database that knows nothing: what a lost or restored-from-old-backup ledger looks like. */
async function freshDb(): Promise<TempDb> {
  const t = await tempDb();
  cleanup.push(t);
  return t;
}

function byPath(snap: FolderSnapshot[]): Map<string, FolderSnapshot> {
  return new Map(snap.map((f) => [f.path, f]));
}

/** Every selectable source folder's messages (content hash, flags with keywords, INTERNALDATE) are in the planned destination folder, and nothing else is anywhere. */
function assertCopiedPerPlan(plan: FolderPlanEntry[], source: FolderSnapshot[], dest: FolderSnapshot[]): void {
  const src = byPath(source);
  const dst = byPath(dest);
  const planned = new Set<string>();
  for (const entry of plan.filter((e) => !e.excluded && e.selectable)) {
    planned.add(entry.dest);
    const from = src.get(entry.source);
    const to = dst.get(entry.dest);
    assert.ok(from, `source folder ${entry.source} missing`);
    assert.ok(to, `destination folder ${entry.dest} (from ${entry.source}) was not created`);
    assert.deepEqual(to.messages, from.messages, `${entry.source} → ${entry.dest}`);
  }
  for (const folder of dest) {
    if (!planned.has(folder.path)) assert.equal(folder.messages.length, 0, `unplanned destination folder ${folder.path} holds mail`);
  }
}


const total = (snap: FolderSnapshot[]) => snap.reduce((n, f) => n + f.messages.length, 0);
const sha = (raw: string | Buffer) => createHash('sha256').update(raw).digest('hex');

before(async () => {
  [slash, courier] = await Promise.all([startDovecot({ separator: '/', prefix: '', specialUse: true }), startDovecot({ separator: '.', prefix: 'INBOX.', specialUse: true })]);
  await addDomain(slash, DOMAIN);
  await addDomain(courier, DOMAIN);
  store = await tempDb();
  project = await insertProject(store.db);
  await seedAlice().catch((err) => { throw new Error(`seeding alice: ${err.responseText ?? err.message}`, { cause: err }); });
});

after(async () => {
  await Promise.allSettled([slash?.stop(), courier?.stop()]);
  await store?.close();
  for (const t of cleanup) await t.close();
});

// ---------------------------------------------------------------- (a) (b) (c): a full mailbox, both ways

const ALICE = `alice@${DOMAIN}`;
const ALICE_BACK = `alice-back@${DOMAIN}`;
let forward: Pair;
let backward: Pair;
let forwardId: number;
let backwardId: number;
let aliceSource: FolderSnapshot[];

async function seedAlice(): Promise<void> {
  await addMailbox(slash, ALICE, PASSWORD);
  await addMailbox(courier, ALICE, PASSWORD);
  await addMailbox(slash, ALICE_BACK, PASSWORD);
  await seed(slash, ALICE, aliceMessages());
  const client = await imapAs(slash, ALICE);
  try {
    await client.mailboxUnsubscribe('Unsubscribed');
  } finally {
    await client.logout();
  }
  aliceSource = await snapshot(slash, ALICE);
}

let aliceSeeded: SeedMessage[] | undefined;

/** Built once: rawMessage() numbers its Message-IDs, so a second build would differ in size. */
function aliceMessages(): SeedMessage[] {
  return (aliceSeeded ??= buildAliceMessages());
}

function buildAliceMessages(): SeedMessage[] {
  const d = (iso: string) => new Date(iso);
  return [
    ...corpusFor(ALICE).messages,
    { folder: 'Sent', raw: rawMessage({ subject: 'sent by the server-flagged Sent' }), flags: ['\\Seen', '$Forwarded'], date: d('2023-01-01T00:00:01Z') },
    { folder: 'Éléments envoyés/2023', raw: rawMessage({ subject: 'envoyé en 2023' }), flags: ['\\Seen'], date: d('2023-02-02T00:00:02Z') },
    { folder: 'Entwürfe', raw: rawMessage({ subject: 'Entwurf' }), flags: ['\\Draft'], date: d('2023-03-03T00:00:03Z') },
    { folder: '受信トレイ2', raw: rawMessage({ subject: '日本語の件名', body: 'こんにちは\r\n' }), flags: ['\\Seen', '$Important'], date: d('2023-04-04T00:00:04Z') },
    { folder: 'Projects', raw: rawMessage({ subject: 'project root' }), flags: ['\\Seen'], date: d('2023-05-05T00:00:04Z') },
    { folder: 'Projects/Sent', raw: rawMessage({ subject: 'project mail, not the Sent folder' }), flags: [], date: d('2023-05-05T00:00:05Z') },
    { folder: 'Unsubscribed', raw: rawMessage({ subject: 'in a folder nobody subscribed to' }), flags: ['\\Seen'], date: d('2023-06-06T00:00:06Z') },
  ];
}


test("(a) '/' source with SPECIAL-USE → Courier destination: every message byte-identical with flags, keywords, INTERNALDATE", async () => {
  const plan = await planBetween(slash, ALICE, courier, ALICE);
  forward = { src: slash, srcAddr: ALICE, dst: courier, dstAddr: ALICE, plan };
  forwardId = await newMailboxRow(ALICE);
  const report = await runCopy(forward, forwardId);

  const dest = await snapshot(courier, ALICE);
  assertCopiedPerPlan(plan, aliceSource, dest);
  assert.equal(report.copied, aliceMessages().length);
  assert.equal(total(dest), aliceMessages().length);
  assert.equal(report.bytes, aliceMessages().reduce((n, m) => n + Buffer.byteLength(m.raw), 0));
  assert.deepEqual([report.skipped, report.failed], [0, 0]);
  // Keywords really made it (not only system flags).
  const flagged = dest.flatMap((f) => f.messages).filter((m) => m.flags.includes('$Label1'));
  assert.equal(flagged.length, 1);
  assert.deepEqual(flagged[0]!.flags, ['$Label1', 'Projet', '\\Flagged']);
  assert.equal((await dbLedgerCount(store, forwardId)), aliceMessages().length);
});

async function dbLedgerCount(t: TempDb, mailboxId: number): Promise<number> {
  const row = await t.db('ledger').where({ mailbox_id: mailboxId }).count({ n: '*' }).first();
  return Number(row?.n);
}

test('(a) folder names follow the plan: prefix, delimiter, special use, children, modified UTF-7 on the wire', async () => {
  const dest = (source: string) => forward.plan.find((e) => e.source === source)!.dest;
  assert.equal(dest('INBOX'), 'INBOX');
  assert.equal(dest('Entwürfe & Ideen'), 'INBOX.Entwürfe & Ideen');
  assert.equal(dest('受信トレイ2'), 'INBOX.受信トレイ2');
  assert.equal(dest('Projects/Sent'), 'INBOX.Projects.Sent');
  assert.equal(dest('Archives/2023'), `${dest('Archives')}.2023`);
  assert.equal(dest('Éléments envoyés/2023'), `${dest('Éléments envoyés')}.2023`);
  assert.ok([dest('Sent'), dest('Éléments envoyés')].includes('INBOX.Sent'), 'one of the two Sent folders is the destination Sent');
  assert.ok([dest('Drafts'), dest('Brouillons'), dest('Entwürfe')].includes('INBOX.Drafts'));

  const client = await imapAs(courier, ALICE);
  try {
    const listed = new Map((await client.list()).map((f) => [f.path, f]));
    for (const entry of forward.plan) assert.ok(listed.has(entry.dest), `${entry.dest} listed on the destination`);
    // Names travel as modified UTF-7 (Dovecot 2.3 has no UTF8=ACCEPT): what the server stored is the RFC 3501 encoding.
    assert.equal(listed.get('INBOX.Entwürfe & Ideen')!.pathAsListed, 'INBOX.Entw&APw-rfe &- Ideen');
    assert.equal(listed.get('INBOX.受信トレイ2')!.pathAsListed, 'INBOX.&U9dP4TDIMOwwpA-2');
    const eleDest = dest('Éléments envoyés');
    if (eleDest !== 'INBOX.Sent') assert.equal(listed.get(eleDest)!.pathAsListed, 'INBOX.&AMk-l&AOk-ments envoy&AOk-s');
    if (dest('Entwürfe') !== 'INBOX.Drafts') assert.equal(listed.get(dest('Entwürfe'))!.pathAsListed, 'INBOX.Entw&APw-rfe');
  } finally {
    await client.logout();
  }
});

test('(a) subscriptions are copied: every folder subscribed on the source is subscribed on the destination', async () => {
  const dest = byPath(await snapshot(courier, ALICE));
  let checked = 0;
  for (const entry of forward.plan) {
    const src = aliceSource.find((f) => f.path === entry.source)!;
    if (!src.subscribed) continue;
    assert.equal(dest.get(entry.dest)!.subscribed, true, `${entry.source} → ${entry.dest}`);
    checked++;
  }
  assert.ok(checked >= 10, `only ${checked} subscribed folders checked`);
});

test('(a) subscriptions are copied: a folder not subscribed on the source is not subscribed on the destination', async () => {
  const unsub = forward.plan.find((e) => e.source === 'Unsubscribed')!;
  assert.equal(unsub.subscribed, false, 'precondition: the plan knows the source folder is unsubscribed');
  const dest = byPath(await snapshot(courier, ALICE));
  assert.equal(dest.get(unsub.dest)!.subscribed, false);
});

test('(a) Courier source → \'/\' destination: the copied mailbox goes back byte-identical per plan', async () => {
  const plan = await planBetween(courier, ALICE, slash, ALICE_BACK);
  backward = { src: courier, srcAddr: ALICE, dst: slash, dstAddr: ALICE_BACK, plan };
  backwardId = await newMailboxRow(ALICE_BACK);
  const report = await runCopy(backward, backwardId);
  const source = await snapshot(courier, ALICE);
  const dest = await snapshot(slash, ALICE_BACK);
  assertCopiedPerPlan(plan, source, dest);
  assert.equal(report.copied, aliceMessages().length);
  assert.equal(total(dest), aliceMessages().length);
  // Special folders come back to the '/' server's special folders.
  const sentDest = plan.find((e) => e.source === 'INBOX.Sent')!.dest;
  assert.equal(sentDest, 'Sent');
  // The multiset of message contents survived the round trip.
  const hashes = (snap: FolderSnapshot[]) => snap.flatMap((f) => f.messages.map((m) => `${m.sha256}|${m.internalDate}|${m.flags.join(',')}`)).sort();
  assert.deepEqual(hashes(dest), hashes(aliceSource));
});

test("(a) round trip '/' → Courier → '/': ordinary folders come back under their own names", async () => {
  const back = byPath(await snapshot(slash, ALICE_BACK));
  for (const name of ['Entwürfe & Ideen', '受信トレイ2', 'Projects/Sent', 'Unsubscribed']) {
    const original = aliceSource.find((f) => f.path === name)!;
    assert.ok(back.has(name), `${name} missing after the round trip; destination has ${[...back.keys()].join(', ')}`);
    assert.deepEqual(back.get(name)!.messages, original.messages, name);
  }
});

test('(b) a re-run with the ledger copies nothing and changes nothing, both ways', async () => {
  const beforeFwd = await snapshot(courier, ALICE);
  const beforeBack = await snapshot(slash, ALICE_BACK);
  const uidsBefore = await uidNexts(courier, ALICE);
  const fwd = await runCopy(forward, forwardId, { pass: 2 });
  const back = await runCopy(backward, backwardId, { pass: 2 });
  assert.deepEqual([fwd.copied, fwd.bytes, fwd.skipped, fwd.failed], [0, 0, 0, 0]);
  assert.deepEqual([back.copied, back.bytes, back.skipped, back.failed], [0, 0, 0, 0]);
  assert.deepEqual(await snapshot(courier, ALICE), beforeFwd);
  assert.deepEqual(await snapshot(slash, ALICE_BACK), beforeBack);
  assert.deepEqual(await uidNexts(courier, ALICE), uidsBefore, 'no APPEND at all');
});

test('(c) ledger lost: a re-run with an empty ledger appends nothing, recognising every message by fingerprint', async () => {
  const lost = await freshDb();
  const id = await newMailboxRow(ALICE, lost);
  const destBefore = await snapshot(courier, ALICE);
  const uidsBefore = await uidNexts(courier, ALICE);
  await runCopy(forward, id, { db: lost });
  assert.deepEqual(await snapshot(courier, ALICE), destBefore, 'destination unchanged, no duplicate');
  assert.deepEqual(await uidNexts(courier, ALICE), uidsBefore, 'no APPEND at all');
  // The rebuilt ledger accounts for every message, so the next pass has nothing to look at.
  assert.equal(await dbLedgerCount(lost, id), aliceMessages().length);
  const again = await runCopy(forward, id, { db: lost, pass: 2 });
  assert.equal(again.copied, 0);
});

test('(c) ledger lost: the re-run reports 0 messages copied', async () => {
  const lost = await freshDb();
  const id = await newMailboxRow(ALICE, lost);
  const report = await runCopy(forward, id, { db: lost });
  assert.deepEqual([report.copied, report.bytes], [0, 0]);
});

// ---------------------------------------------------------------- (d) UIDVALIDITY change

const ERIN = `erin@${DOMAIN}`;

test('(d) UIDVALIDITY change on the source (folder deleted and recreated with the same mail): nothing is duplicated', async () => {
  await addMailbox(slash, ERIN, PASSWORD);
  await addMailbox(courier, ERIN, PASSWORD);
  const date = new Date('2022-02-02T02:02:02Z');
  await seed(slash, ERIN, [
    { folder: 'Kunden', raw: rawMessage({ subject: 'k1' }), flags: ['\\Seen'], date },
    { folder: 'Kunden', raw: rawMessage({ subject: 'k2', messageId: null }), flags: ['Projet'], date },
    { folder: 'Kunden', raw: rawMessage({ subject: 'k3' }), flags: [], date: new Date('2022-03-03T03:03:03Z') },
  ]);
  const pair: Pair = { src: slash, srcAddr: ERIN, dst: courier, dstAddr: ERIN, plan: await planBetween(slash, ERIN, courier, ERIN) };
  const id = await newMailboxRow(ERIN);
  assert.equal((await runCopy(pair, id)).copied, 3);
  const destBefore = await snapshot(courier, ERIN);

  const client = await imapAs(slash, ERIN);
  let oldValidity: bigint;
  try {
    const saved: Array<{ raw: Buffer; flags: string[]; date: Date }> = [];
    const lock = await client.getMailboxLock('Kunden');
    try {
      oldValidity = client.mailbox ? client.mailbox.uidValidity : 0n;
      for await (const m of client.fetch('1:*', { source: true, flags: true, internalDate: true })) {
        saved.push({ raw: m.source!, flags: [...(m.flags ?? [])].filter((f) => f !== '\\Recent'), date: new Date(m.internalDate!) });
      }
    } finally {
      lock.release();
    }
    await client.mailboxDelete('Kunden');
    await client.mailboxCreate('Kunden');
    await client.mailboxSubscribe('Kunden');
    for (const m of saved) await client.append('Kunden', m.raw, m.flags, m.date);
    const status = await client.status('Kunden', { uidValidity: true, messages: true });
    assert.ok(status);
    assert.notEqual(status.uidValidity, oldValidity, 'precondition: the source folder has a new UIDVALIDITY');
    assert.equal(status.messages, 3);
  } finally {
    await client.logout();
  }

  await runCopy(pair, id, { pass: 2 });
  const destAfter = await snapshot(courier, ERIN);
  const kunden = (snap: FolderSnapshot[]) => snap.find((f) => f.path === 'INBOX.Kunden')!.messages.length;
  assert.equal(kunden(destBefore), 3);
  assert.equal(kunden(destAfter), 3, 'INBOX.Kunden holds each message once');
  assert.deepEqual(destAfter, destBefore);
});

// ---------------------------------------------------------------- (e) duplicates and Message-ID oddities

const DAVE = `dave@${DOMAIN}`;

test('(e) exact duplicates, same Message-ID with different bodies, no Message-ID: every one arrives exactly once per copy', async () => {
  await addMailbox(slash, DAVE, PASSWORD);
  await addMailbox(courier, DAVE, PASSWORD);
  const date = new Date('2024-04-05T06:07:08Z');
  const dup = rawMessage({ subject: 'exact duplicate', messageId: '<dup.dave@example.org>' });
  const dupNoId = rawMessage({ subject: 'duplicate without id', messageId: null });
  const sameA = rawMessage({ subject: 'same id', messageId: '<same.dave@example.org>', body: 'first body\r\n' });
  const sameB = rawMessage({ subject: 'same id', messageId: '<same.dave@example.org>', body: 'second, different body\r\n' });
  const noId = rawMessage({ subject: 'no message id at all', messageId: null });
  const messages: SeedMessage[] = [
    { folder: 'INBOX', raw: dup, flags: ['\\Seen'], date },
    { folder: 'INBOX', raw: dup, flags: ['\\Seen'], date },
    { folder: 'INBOX', raw: dup, flags: ['\\Seen'], date },
    { folder: 'INBOX', raw: dupNoId, flags: [], date },
    { folder: 'INBOX', raw: dupNoId, flags: [], date },
    { folder: 'INBOX', raw: sameA, flags: ['\\Answered'], date },
    { folder: 'INBOX', raw: sameB, flags: [], date },
    { folder: 'INBOX', raw: noId, flags: ['$Label2'], date },
  ];
  await seed(slash, DAVE, messages);
  const pair: Pair = { src: slash, srcAddr: DAVE, dst: courier, dstAddr: DAVE, plan: await planBetween(slash, DAVE, courier, DAVE) };
  const id = await newMailboxRow(DAVE);
  const report = await runCopy(pair, id);
  assert.equal(report.copied, messages.length);

  const count = async (raw: string) => (await snapshot(courier, DAVE)).find((f) => f.path === 'INBOX')!.messages.filter((m) => m.sha256 === sha(raw)).length;
  const checkCounts = async (when: string) => {
    assert.equal(await count(dup), 3, `${when}: exact duplicate ×3`);
    assert.equal(await count(dupNoId), 2, `${when}: duplicate without Message-ID ×2`);
    assert.equal(await count(sameA), 1, `${when}: same Message-ID, first body`);
    assert.equal(await count(sameB), 1, `${when}: same Message-ID, second body`);
    assert.equal(await count(noId), 1, `${when}: no Message-ID`);
    assert.deepEqual(await snapshot(courier, DAVE).then((s) => s.find((f) => f.path === 'INBOX')!.messages),
      (await snapshot(slash, DAVE)).find((f) => f.path === 'INBOX')!.messages, `${when}: INBOX identical`);
  };
  await checkCounts('first copy');

  // The ledger write after one duplicate's APPEND was lost (crash between the two): the re-run must not add a fourth copy.
  const dupRows = await store.db('ledger').where({ mailbox_id: id }).orderBy('uid');
  const victim = dupRows[1];
  await store.db('ledger').where({ mailbox_id: id, uid: victim.uid, source_folder: victim.source_folder }).delete();
  await runCopy(pair, id, { pass: 2 });
  await checkCounts('after a lost ledger row');

  // The whole ledger lost.
  const lost = await freshDb();
  await runCopy(pair, await newMailboxRow(DAVE, lost), { db: lost });
  await checkCounts('after the whole ledger was lost');
});

// ---------------------------------------------------------------- (f) selection: message size

const FRANK = `frank@${DOMAIN}`;

test('(f) maxMessageBytes: a message over the limit goes to the skip list as too-big and is counted as skipped', async () => {
  await addMailbox(slash, FRANK, PASSWORD);
  await addMailbox(courier, FRANK, PASSWORD);
  const big = rawMessage({ subject: 'too big', body: `${'y'.repeat(98)}\r\n`.repeat(2000) });
  const smalls = [rawMessage({ subject: 's1' }), rawMessage({ subject: 's2' }), rawMessage({ subject: 's3' })];
  await seed(slash, FRANK, [
    { folder: 'INBOX', raw: smalls[0]!, flags: [] },
    { folder: 'INBOX', raw: big, flags: ['\\Seen'] },
    { folder: 'INBOX', raw: smalls[1]!, flags: [] },
    { folder: 'Archiv2', raw: smalls[2]!, flags: [] },
  ]);
  const pair: Pair = { src: slash, srcAddr: FRANK, dst: courier, dstAddr: FRANK, plan: await planBetween(slash, FRANK, courier, FRANK) };
  const id = await newMailboxRow(FRANK);
  const limit = 100_000;
  assert.ok(Buffer.byteLength(big) > limit && smalls.every((s) => Buffer.byteLength(s) < limit));

  const report = await runCopy(pair, id, { selection: { maxMessageBytes: limit } });
  assert.equal(report.skipped, 1);
  assert.equal(report.copied, 3);
  assert.equal(report.failed, 0);
  const inbox = report.folders.find((f) => f.source === 'INBOX')!;
  assert.deepEqual([inbox.copied, inbox.skipped, inbox.skippedBytes], [2, 1, Buffer.byteLength(big)]);

  const skips = await store.db('skips').where({ mailbox_id: id });
  assert.equal(skips.length, 1);
  assert.equal(skips[0].kind, 'too-big');
  assert.equal(skips[0].source_folder, 'INBOX');
  assert.equal(Number(skips[0].size), Buffer.byteLength(big));
  assert.match(skips[0].reason, /100000/);

  const dest = await snapshot(courier, FRANK);
  const all = dest.flatMap((f) => f.messages.map((m) => m.sha256));
  assert.ok(!all.includes(sha(big)), 'the big message is not on the destination');
  assert.deepEqual(all.sort(), smalls.map(sha).sort());

  // The skip is remembered: the next pass neither copies nor re-counts it.
  const again = await runCopy(pair, id, { pass: 2, selection: { maxMessageBytes: limit } });
  assert.deepEqual([again.copied, again.skipped], [0, 0]);
});

// ---------------------------------------------------------------- (g) refused by the destination

const GINA = `gina@${DOMAIN}`;

test('(g) a message the destination refuses (NO [OVERQUOTA]) goes to the skip list as refused with the server\'s words; the copy goes on', async () => {
  await addMailbox(slash, GINA, PASSWORD);
  await addMailbox(courier, GINA, PASSWORD, 20_000);
  const big = rawMessage({ subject: 'does not fit', body: `${'z'.repeat(98)}\r\n`.repeat(500) });
  const smalls = [rawMessage({ subject: 'fits 1' }), rawMessage({ subject: 'fits 2' }), rawMessage({ subject: 'fits 3' })];
  await seed(slash, GINA, [
    { folder: 'INBOX', raw: smalls[0]!, flags: [] },
    { folder: 'INBOX', raw: big, flags: [] },
    { folder: 'INBOX', raw: smalls[1]!, flags: ['\\Seen'] },
    { folder: 'Later', raw: smalls[2]!, flags: [] },
  ]);
  const pair: Pair = { src: slash, srcAddr: GINA, dst: courier, dstAddr: GINA, plan: await planBetween(slash, GINA, courier, GINA) };
  const id = await newMailboxRow(GINA);

  const report = await runCopy(pair, id);
  assert.equal(report.failed, 1);
  assert.equal(report.copied, 3, 'the messages after the refused one are copied, in its folder and the next');
  const skips = await store.db('skips').where({ mailbox_id: id });
  assert.equal(skips.length, 1);
  assert.equal(skips[0].kind, 'refused');
  assert.match(skips[0].reason, /quota/i, `the server's words: ${skips[0].reason}`);
  assert.equal(Number(skips[0].size), Buffer.byteLength(big));

  const dest = await snapshot(courier, GINA);
  assert.deepEqual(dest.flatMap((f) => f.messages.map((m) => m.sha256)).sort(), smalls.map(sha).sort());

  // A refused message is tried again on the next pass (the quota may have been raised), still without throwing.
  const again = await runCopy(pair, id, { pass: 2 });
  assert.deepEqual([again.copied, again.failed], [0, 1]);
  assert.equal((await store.db('skips').where({ mailbox_id: id })).length, 1);
});

test('a one-mailbox copy keeps 6 MB per lane in flight, never less than the 12 MB a workflow mailbox gets', () => {
  const mb = 1024 * 1024;
  assert.equal(MIN_BUDGET, 12 * mb);
  assert.deepEqual([1, 2, 3, 4, 8].map((lanes) => defaultBudget(lanes) / mb), [12, 12, 18, 24, 48]);
});
