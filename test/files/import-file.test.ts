import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { addDomain, addMailbox, startDovecot, type DovecotInstance } from '../../server/devservers/dovecot.ts';
import { cutover, tempDataDir } from '../support/cli.ts';
import { imapAs, snapshot } from '../support/mail.ts';

const PST_DIR = path.join(import.meta.dirname, 'pst');
const PASSWORD = 'file-pw';
let dest: DovecotInstance;
let dir: string;
let users = 0;

before(async () => {
  dest = await startDovecot();
  await addDomain(dest, 'example.test');
  dir = tempDataDir();
  writeFileSync(path.join(dir, 'pw'), `${PASSWORD}\n`);
});
after(async () => { await dest?.stop(); });

async function newUser(): Promise<string> {
  const user = `u${++users}@example.test`;
  await addMailbox(dest, user, PASSWORD);
  return user;
}
const destArgs = (user: string) => ['--dest', `imap://${encodeURIComponent(user)}@127.0.0.1:${dest.port}`, '--dest-password-file', path.join(dir, 'pw')];
const importFile = (files: string[], user: string, extra: string[] = [], opts: { timeoutMs?: number } = {}) => cutover(['import-file', ...files, ...destArgs(user), '--json', ...extra], { dataDir: dir, ...opts });

async function counts(user: string): Promise<Record<string, number>> {
  return Object.fromEntries((await snapshot(dest, user)).filter((f) => f.messages.length).map((f) => [f.path, f.messages.length]));
}

/**
 * readpst's "done" counts (PROVENANCE.md) count a folder's sub-folders as items: Outlook.pst's
 * Inbox is 8 messages and the folder SubInbox. Only mail folders are compared here; contacts and
 * calendars go over CardDAV/CalDAV and are compared in import-dav.test.ts (here, with no DAV server,
 * they are listed as not imported, with the reason).
 */
const readpstMail: Record<string, Record<string, number>> = {
  'Outlook.pst': { INBOX: 9 - 1, Sent: 6 },
  'source.pst': { INBOX: 9 - 1, Sent: 6 },
  'Test_part1.pst': { Sent: 30 },
  'dist-list.pst': {},
  'passworded.pst': {},
};

for (const [file, expected] of Object.entries(readpstMail)) {
  test(`${file}: every mail folder brings at least readpst's count into Dovecot, the rest is listed with a reason`, { timeout: 120_000 }, async () => {
    const user = await newUser();
    const dry = await importFile([path.join(PST_DIR, file)], user, ['--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    const plan = JSON.parse(dry.stdout);
    assert.deepEqual(await counts(user), {}, 'a dry run writes nothing');
    const run = await importFile([path.join(PST_DIR, file)], user);
    assert.equal(run.code, 0, run.stderr);
    const report = JSON.parse(run.stdout);
    assert.equal(report.copied, plan.messages, 'the import brings what the dry run announced');
    const got = await counts(user);
    for (const [folder, n] of Object.entries(expected)) assert.ok((got[folder] ?? 0) >= n, `${file} ${folder}: ${got[folder] ?? 0} < readpst's ${n}`);
    for (const f of report.folders) for (const s of f.skips) assert.match(s.reason, /\w/, 'every skip has a reason');
    // Printed for the closing note: items per folder against readpst's.
    console.log(`${file}: imported ${JSON.stringify(got)}; readpst mail ${JSON.stringify(expected)}; not importable ${JSON.stringify(Object.fromEntries(report.folders.filter((f: { skipped: number }) => f.skipped).map((f: { source: string; skipped: number }) => [f.source, f.skipped])))}`);
  });
}

/** MS-PST 5.3's CRC (CRC-32's table, no inversion), over the header bytes dwCRCPartial covers. */
function headerCrc(bytes: Buffer): number {
  let crc = 0;
  for (const byte of bytes) {
    let c = (crc ^ byte) & 0xff;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    crc = (c ^ (crc >>> 8)) >>> 0;
  }
  return crc;
}

test('an OST of Outlook 2003–2010 (a PST whose client magic is "SO") imports as its PST does', { timeout: 120_000 }, async () => {
  // No OST sample is public: this one is Outlook.pst with the OST client magic and its header CRC redone.
  const ost = Buffer.from(readFileSync(path.join(PST_DIR, 'Outlook.pst')));
  assert.equal(headerCrc(ost.subarray(8, 8 + 471)), ost.readUInt32LE(4), 'the CRC is computed as Outlook does');
  ost.write('SO', 8, 'latin1');
  ost.writeUInt32LE(headerCrc(ost.subarray(8, 8 + 471)), 4);
  const file = path.join(dir, 'Outlook.ost');
  writeFileSync(file, ost);
  const [fromPst, fromOst] = [await newUser(), await newUser()];
  assert.equal((await importFile([path.join(PST_DIR, 'Outlook.pst')], fromPst)).code, 0);
  const run = await importFile([file], fromOst);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(JSON.parse(run.stdout).files[0].format, 'pst');
  const got = await counts(fromOst);
  assert.ok(got.INBOX >= 8, JSON.stringify(got));
  assert.deepEqual(got, await counts(fromPst));
});

test('Outlook.pst field by field: subject, sender, recipients, date, attachments, flags; special-use folders mapped', { timeout: 120_000 }, async () => {
  const user = await newUser();
  const run = await importFile([path.join(PST_DIR, 'Outlook.pst')], user);
  assert.equal(run.code, 0, run.stderr);
  const report = JSON.parse(run.stdout);
  const sent = report.folders.find((f: { source: string }) => f.source === 'Sent Items');
  assert.deepEqual([sent.dest, sent.specialUse], ['Sent', '\\Sent']);
  assert.ok(report.folders.some((f: { source: string; dest: string }) => f.source === 'Inbox/SubInbox' && f.dest === 'INBOX/SubInbox'));
  const client = await imapAs(dest, user);
  try {
    const lock = await client.getMailboxLock('INBOX');
    try {
      const found = await client.search({ subject: 'Multiple attachments' });
      assert.equal((found || []).length, 1);
      const msg = await client.fetchOne(String((found as number[])[0]), { envelope: true, internalDate: true, flags: true, bodyStructure: true });
      assert.ok(msg);
      assert.equal(msg.envelope!.subject, 'Multiple attachments');
      assert.deepEqual(msg.envelope!.from!.map((a) => a.address), ['saqib.razzaq@xp.local']);
      assert.deepEqual(msg.envelope!.to!.map((a) => a.address), ['saqib.razzaq@xp.local']);
      assert.equal(new Date(msg.envelope!.date!).toISOString(), '2011-06-21T23:51:07.000Z');
      assert.equal(new Date(msg.internalDate!).toISOString(), '2011-06-21T23:51:07.000Z');
      assert.ok(msg.flags!.has('\\Seen'));
      const attachments: Array<{ name: string; size: number }> = [];
      const walk = (node: { disposition?: string; dispositionParameters?: Record<string, string>; size?: number; encoding?: string; childNodes?: unknown[] }) => {
        if (node.disposition === 'attachment') attachments.push({ name: node.dispositionParameters?.filename ?? '', size: node.size ?? 0 });
        for (const child of node.childNodes ?? []) walk(child as typeof node);
      };
      walk(msg.bodyStructure as Parameters<typeof walk>[0]);
      assert.ok(attachments.length >= 2, `attachments: ${JSON.stringify(attachments)}`);
      for (const a of attachments) assert.ok(a.name && a.size > 0, `attachment ${JSON.stringify(a)} has a name and content`);
    } finally {
      lock.release();
    }
  } finally {
    await client.logout();
  }
});

function mbox(n: number): string {
  const parts: string[] = [];
  for (let i = 0; i < n; i++) {
    parts.push(`From sender${i}@example.test Mon Jan  2 10:${String(i % 60).padStart(2, '0')}:00 2023\nFrom: sender${i}@example.test\nSubject: message ${i}\nMessage-ID: <m${i}@example.test>\nX-Mozilla-Status: 0001\n\n${'line of body text\n'.repeat(200)}>From an escaped line ${i}\n\n`);
  }
  return parts.join('');
}

test('a second run imports nothing; a run killed mid-way and run again finishes with no duplicate', { timeout: 180_000 }, async () => {
  const user = await newUser();
  const file = path.join(dir, 'Archive.mbox');
  writeFileSync(file, mbox(3000));
  const state = path.join(dir, 'kill.jsonl');
  const first = importFile([file], user, ['--state', state]);
  // Killed once some batches are in the ledger.
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      if (existsSync(state) && readFileSync(state, 'utf8').split('\n').length > 200) { clearInterval(timer); first.child.kill('SIGKILL'); resolve(); }
    }, 5);
  });
  const killed = await first;
  assert.equal(killed.signal, 'SIGKILL');
  const partial = (await counts(user)).Archive ?? 0;
  assert.ok(partial > 0 && partial < 3000, `killed mid-way: ${partial}`);
  // The ledger loses its last lines, as if the kill came between an APPEND and its ledger line.
  const lines = readFileSync(state, 'utf8').split('\n').filter(Boolean);
  writeFileSync(state, lines.slice(0, lines.length - 50).join('\n') + '\n');
  const resumed = await importFile([file], user, ['--state', state]);
  assert.equal(resumed.code, 0, resumed.stderr);
  const report = JSON.parse(resumed.stdout);
  assert.ok(report.matched >= 50, `recognised on the destination: ${report.matched}`);
  assert.equal(report.copied + report.matched + report.alreadyImported, 3000);
  assert.equal((await counts(user)).Archive, 3000, 'no duplicate, none missing');
  const flags = (await snapshot(dest, user)).find((f) => f.path === 'Archive')!.messages.every((m) => m.flags.includes('\\Seen'));
  assert.ok(flags, 'X-Mozilla-Status read → \\Seen');
  const again = JSON.parse((await importFile([file], user, ['--state', state])).stdout);
  assert.deepEqual([again.copied, again.matched, again.alreadyImported], [0, 0, 3000]);
  // Without the ledger, the destination's fingerprints still keep a second run from duplicating.
  const noLedger = JSON.parse((await importFile([file], user)).stdout);
  assert.deepEqual([noLedger.copied, noLedger.matched], [0, 3000]);
  assert.equal((await counts(user)).Archive, 3000);
});

test('a file that cannot be read exits with its own code (10) and names the file', { timeout: 60_000 }, async () => {
  const user = await newUser();
  const truncated = path.join(dir, 'cut.pst');
  writeFileSync(truncated, readFileSync(path.join(PST_DIR, 'Outlook.pst')).subarray(0, 64 * 1024));
  const bad = await importFile([truncated], user);
  assert.equal(bad.code, 10, bad.stderr);
  assert.match(bad.stderr, /FILE_UNREADABLE.*cut\.pst/);
  const missing = await importFile([path.join(dir, 'nope.mbox')], user);
  assert.equal(missing.code, 10);
  const noPassword = await cutover(['import-file', truncated, '--dest', `imap://${user}@127.0.0.1:${dest.port}`], { dataDir: dir });
  assert.equal(noPassword.code, 2, 'a missing password is a usage error');
});
