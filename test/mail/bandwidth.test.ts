import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { addDomain, addMailbox, startDovecot, type DovecotInstance } from '../../server/devservers/dovecot.ts';
import { TokenBucket } from '../../server/mail/bandwidth.ts';
import { copyMailbox } from '../../server/mail/copy.ts';
import { planFolders } from '../../server/mail/folders.ts';
import { closeQuietly, openImap } from '../../server/mail/imap.ts';
import { folderSide } from '../../server/mail/inventory.ts';
import { dbLedger } from '../../server/mail/ledger.ts';
import { CutoverError } from '../../server/errors.ts';
import type { ImapEndpoint } from '../../server/plugins/contract.ts';
import { rawMessage, seed, snapshot } from '../support/mail.ts';
import { insertMailbox, insertProject, tempDb, type TempDb } from '../db/fixtures.ts';

const DOMAIN = 'example.test';
const MESSAGES = 12;
const BODY_BYTES = 1_000_000;
let src: DovecotInstance;
let dst: DovecotInstance;
let store: TempDb;
let project: { projectId: number; domainId: number };

const endpoint = (inst: DovecotInstance, address: string): ImapEndpoint => ({ host: inst.host, port: inst.port, security: 'none', tlsVerify: false, auth: { user: `${address}*${inst.masterUser}`, pass: inst.masterPassword } });

async function mailbox(address: string): Promise<{ plan: Awaited<ReturnType<typeof planFolders>>; id: number }> {
  await addMailbox(src, address, 'x');
  await addMailbox(dst, address, 'x');
  await seed(src, address, Array.from({ length: MESSAGES }, (_, i) => ({ folder: 'INBOX', raw: rawMessage({ subject: `m${i}`, body: `${String(i).padStart(4, '0')} ${'x'.repeat(BODY_BYTES)}` }) })));
  const a = await openImap(endpoint(src, address));
  const b = await openImap(endpoint(dst, address));
  try {
    return { plan: planFolders(await folderSide(a), await folderSide(b)), id: await insertMailbox(store.db, project, address) };
  } finally { await closeQuietly(a); await closeQuietly(b); }
}

before(async () => {
  [src, dst] = await Promise.all([startDovecot({ separator: '/', prefix: '' }), startDovecot({ separator: '/', prefix: '' })]);
  await addDomain(src, DOMAIN);
  await addDomain(dst, DOMAIN);
  store = await tempDb();
  project = await insertProject(store.db);
});
after(async () => { await Promise.allSettled([src?.stop(), dst?.stop()]); await store?.close(); });

test('a token bucket holds the average rate: 1 MB at 400 KB/s takes at least 1.5 s after the first second\'s burst', async () => {
  const bucket = new TokenBucket(400_000);
  const started = Date.now();
  for (let i = 0; i < 10; i++) await bucket.take(100_000);
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 1400, `1,000,000 bytes at 400,000 B/s with a 400,000 B burst: ${elapsed} ms`);
});

test('a copy capped at 1 MB/s takes as long as its bytes require, and the same copy uncapped does not', async () => {
  const capped = await mailbox(`capped@${DOMAIN}`);
  const started = Date.now();
  const report = await copyMailbox({ source: endpoint(src, `capped@${DOMAIN}`), dest: endpoint(dst, `capped@${DOMAIN}`), plan: capped.plan, ledger: dbLedger(store.db, capped.id), pass: 1, pace: { buckets: [new TokenBucket(1_000_000)] } });
  const cappedMs = Date.now() - started;
  assert.equal(report.copied, MESSAGES);
  // Bytes beyond the first second's burst, at the cap: the lower bound of the wall time.
  const floorMs = ((report.bytes - 1_000_000) / 1_000_000) * 1000;
  assert.ok(report.bytes > 10_000_000, `${report.bytes} bytes copied`);
  assert.ok(cappedMs >= floorMs * 0.9, `capped copy of ${report.bytes} B took ${cappedMs} ms, under the ${Math.round(floorMs)} ms the cap requires`);
  const free = await mailbox(`free@${DOMAIN}`);
  const freeStarted = Date.now();
  await copyMailbox({ source: endpoint(src, `free@${DOMAIN}`), dest: endpoint(dst, `free@${DOMAIN}`), plan: free.plan, ledger: dbLedger(store.db, free.id), pass: 1 });
  const freeMs = Date.now() - freeStarted;
  assert.ok(freeMs < cappedMs, `uncapped ${freeMs} ms vs capped ${cappedMs} ms`);
  console.log(`cap 1,000,000 B/s: ${report.bytes} B in ${cappedMs} ms (${Math.round(report.bytes / (cappedMs / 1000))} B/s); uncapped ${freeMs} ms`);
});

test('a window that closes mid-pass stops the copy between two messages; the next pass copies the rest, none twice', async () => {
  const address = `window@${DOMAIN}`;
  const box = await mailbox(address);
  const options = { source: endpoint(src, address), dest: endpoint(dst, address), plan: box.plan, ledger: dbLedger(store.db, box.id) };
  // The window closes 250 ms after the pass reserves its first batch (8 messages, within the cap's
  // one-second burst); the next batch needs at least 430 ms more of the cap, so it never starts.
  const real = new TokenBucket(8 * 1024 * 1024);
  let first: number | undefined;
  const bucket = { take: (bytes: number, signal?: AbortSignal) => { first ??= Date.now(); return real.take(bytes, signal); } } as TokenBucket;
  const pace = { buckets: [bucket], get stopAt() { return first === undefined ? Number.POSITIVE_INFINITY : first + 250; } };
  await assert.rejects(copyMailbox({ ...options, pass: 1, pace }), (err: unknown) => err instanceof CutoverError && err.code === 'COPY_WINDOW_CLOSED' && err.retryable);
  const afterStop = (await snapshot(dst, address)).find((f) => f.path === 'INBOX')?.messages.length ?? 0;
  assert.ok(afterStop < MESSAGES, `stopped part-way: ${afterStop} of ${MESSAGES} on the destination`);
  const second = await copyMailbox({ ...options, pass: 2 });
  const inbox = (await snapshot(dst, address)).find((f) => f.path === 'INBOX')!.messages;
  assert.equal(inbox.length, MESSAGES, 'every message once');
  assert.equal(new Set(inbox.map((m) => m.sha256)).size, MESSAGES, 'no duplicate');
  assert.equal(second.copied, MESSAGES - afterStop, `the next pass copied only what the first left (${afterStop} there, ${second.matched} matched by fingerprint)`);
  console.log(`window stop: ${afterStop} of ${MESSAGES} copied before the close, ${second.copied} after`);
});

test('cutover copy --max-bytes-per-second: refused outside 1K..1.25G, and a capped copy takes as long as its bytes require', async () => {
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const os = await import('node:os');
  const pathMod = await import('node:path');
  const { cutover, tempDataDir } = await import('../support/cli.ts');
  const address = `cli@${DOMAIN}`;
  await mailbox(address);
  const dir = mkdtempSync(pathMod.join(os.tmpdir(), 'cutover-bw-'));
  writeFileSync(pathMod.join(dir, 'pw'), 'x\n', { mode: 0o600 });
  const args = (rate: string) => ['copy', '--source', `imap://${address}@127.0.0.1:${src.port}`, '--source-password-file', pathMod.join(dir, 'pw'),
    '--dest', `imap://${address}@127.0.0.1:${dst.port}`, '--dest-password-file', pathMod.join(dir, 'pw'), '--max-bytes-per-second', rate, '--json'];
  const dataDir = tempDataDir();
  for (const bad of ['10', 'fast', '2G']) {
    const refused = await cutover(args(bad), { dataDir });
    assert.equal(refused.code, 2, `${bad}: ${refused.stderr}`);
    assert.match(refused.stderr, /--max-bytes-per-second/);
  }
  const started = Date.now();
  const run = await cutover(args('2M'), { dataDir, timeoutMs: 120_000 });
  const ms = Date.now() - started;
  assert.equal(run.code, 0, run.stderr);
  const report = JSON.parse(run.stdout);
  const floorMs = ((report.bytes - 2 * 1024 * 1024) / (2 * 1024 * 1024)) * 1000;
  assert.ok(report.bytes > 10_000_000 && ms >= floorMs, `${report.bytes} B in ${ms} ms at 2 MiB/s (at least ${Math.round(floorMs)} ms)`);
  console.log(`cutover copy --max-bytes-per-second 2M: ${report.bytes} B in ${ms} ms`);
});
