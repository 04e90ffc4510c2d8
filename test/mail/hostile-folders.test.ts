import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { addDomain, addMailbox, startDovecot, type DovecotInstance } from '../../server/devservers/dovecot.ts';
import { closeQuietly, openImap } from '../../server/mail/imap.ts';
import { folderSide } from '../../server/mail/inventory.ts';
import { tempDataDir } from '../support/cli.ts';
import { startHostileImap, type HostileServer, type SeedFolder } from '../support/hostile-imap.ts';
import { measuredCutover } from '../support/hostile-imap-run.ts';
import { rawMessage } from '../support/mail.ts';

// Issue #11, item 3: a server with 100,000 folders (half of them subscribed) took 310 s and
// 972 MB, 3 minutes of CPU for the subscription listing alone. The hostile server here has no
// LIST-EXTENDED, so subscriptions come from LSUB, where imapflow 2.1.2 is quadratic.

const FOLDERS = 100_000;
let hostile: HostileServer;
let dest: DovecotInstance;
let dir: string;

function manyFolders(): SeedFolder[] {
  const folders: SeedFolder[] = [{ path: 'INBOX', messages: [1, 2, 3].map((n) => ({ raw: rawMessage({ subject: `inbox ${n}`, messageId: `<many-${n}@example.org>` }), flags: ['\\Seen'] })) }];
  for (let i = 1; i < FOLDERS; i++) folders.push({ path: `Box${String(i).padStart(6, '0')}`, subscribed: i % 2 === 0, messages: [] });
  return folders;
}

before(async () => {
  [hostile, dest] = await Promise.all([startHostileImap(manyFolders()), startDovecot()]);
  await addDomain(dest, 'example.test');
  await addMailbox(dest, 'many@example.test', 'pw');
  dir = tempDataDir();
  writeFileSync(path.join(dir, 'pw'), 'pw\n');
});
after(async () => { await Promise.all([hostile?.stop(), dest?.stop()]); });

test('100,000 folders with subscriptions are listed through LSUB and a set: every folder, the right subscription state', { timeout: 300_000 }, async (t) => {
  const client = await openImap({ host: hostile.host, port: hostile.port, security: 'none', tlsVerify: true, auth: { user: 'tester', pass: 'pw' } });
  try {
    const started = Date.now();
    const heapBefore = process.memoryUsage().heapUsed;
    const side = await folderSide(client);
    const ms = Date.now() - started;
    t.diagnostic(`folder listing: ${side.folders.length} folders in ${ms} ms, heap +${Math.round((process.memoryUsage().heapUsed - heapBefore) / 1e6)} MB`);
    assert.equal(side.folders.length, FOLDERS);
    assert.equal(side.folders.filter((f) => f.subscribed).length, 1 + (FOLDERS - 1 - Math.ceil((FOLDERS - 1) / 2)), 'INBOX and every even box');
    assert.equal(side.folders.find((f) => f.path === 'Box000002')!.subscribed, true);
    assert.equal(side.folders.find((f) => f.path === 'Box000003')!.subscribed, false);
    // No time bound here: the server shares this process. The CLI test below bounds the time.
  } finally {
    await closeQuietly(client);
  }
});

test('cutover copy --dry-run of 100,000 folders: bounded time and memory, every folder planned', { timeout: 300_000 }, async (t) => {
  const run = await measuredCutover(['copy', '--source', `imap://tester@127.0.0.1:${hostile.port}`, '--source-password-file', path.join(dir, 'pw'),
    '--dest', `imap://many@example.test@127.0.0.1:${dest.port}`, '--dest-password-file', path.join(dir, 'pw'), '--dry-run', '--json'], { dataDir: dir, timeoutMs: 240_000 });
  t.diagnostic(`100,000 folders, --dry-run: exit ${run.code}, ${run.wallMs} ms, peak RSS ${run.peakRssMb} MB`);
  console.log(`  many-folders (100,000, --dry-run)  exit ${run.code}  ${run.wallMs} ms  ${run.peakRssMb} MB`);
  assert.equal(run.code, 0, run.stderr.slice(0, 2000));
  const report = JSON.parse(run.stdout);
  assert.equal(report.folders.length, FOLDERS);
  assert.equal(report.copied, 3);
  // 310 s in the issue; 39-68 s here with 25 processes waiting for 2 cores.
  assert.ok(run.wallMs < 120_000, `${run.wallMs} ms`);
  assert.ok(run.peakRssMb < 600, `${run.peakRssMb} MB`);
});
