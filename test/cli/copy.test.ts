import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { endpointFor, parseImapUrl, parseSize } from '../../server/cli/copy.ts';
import { addDomain, addMailbox, startDovecot, type DovecotInstance } from '../../server/devservers/dovecot.ts';
import { freePort } from '../../server/devservers/ports.ts';
import { cutover, tempDataDir } from '../support/cli.ts';
import { corpusFor } from '../support/corpus.ts';
import { seed, snapshot, type FolderSnapshot } from '../support/mail.ts';

const USER = 'alice@example.test';
let source: DovecotInstance;
let dest: DovecotInstance;
let dir: string;
const corpus = corpusFor(USER);

before(async () => {
  [source, dest] = await Promise.all([startDovecot({ specialUse: false }), startDovecot({ tls: true })]);
  for (const inst of [source, dest]) {
    await addDomain(inst, 'example.test');
    await addMailbox(inst, USER, 'alice-pw');
  }
  await seed(source, USER, corpus.messages);
  dir = tempDataDir();
  writeFileSync(path.join(dir, 'master'), source.masterPassword);
  writeFileSync(path.join(dir, 'alice'), 'alice-pw\n');
  writeFileSync(path.join(dir, 'wrong'), 'nope');
});
after(async () => { await Promise.all([source?.stop(), dest?.stop()]); });

const sourceArgs = () => ['--source', `imap://${USER}@127.0.0.1:${source.port}`, '--source-auth-user', source.masterUser, '--source-password-file', path.join(dir, 'master')];
// The destination speaks TLS with a certificate for "localhost": pinned, and reached by that name.
const destArgs = (url = `imap://${encodeURIComponent(USER)}@localhost:${dest.port}`) => ['--dest', url, '--dest-password-file', path.join(dir, 'alice'), '--ca', dest.certFile!];

function byContent(folders: FolderSnapshot[], mapping: Record<string, string> = {}): Map<string, string[]> {
  return new Map(folders.filter((f) => f.messages.length).map((f) => [mapping[f.path] ?? f.path, f.messages.map((m) => `${m.sha256} ${m.internalDate} ${m.flags.join(',')}`)]));
}

async function resetDest(): Promise<void> {
  await dest.stop();
  dest = await startDovecot({ tls: true });
  await addDomain(dest, 'example.test');
  await addMailbox(dest, USER, 'alice-pw');
}

test('a one-shot copy is byte-exact, and a re-run with its state file copies nothing', { timeout: 60_000 }, async () => {
  const state = path.join(dir, 'state.sqlite');
  const first = await cutover(['copy', ...sourceArgs(), ...destArgs(), '--state', state, '--json'], { dataDir: dir });
  assert.equal(first.code, 0, first.stderr);
  const report = JSON.parse(first.stdout);
  assert.equal(report.copied, corpus.messages.length);
  assert.match(first.stderr, /msgs .* msg\/s {2}ETA/, 'a progress line on stderr');
  assert.deepEqual(byContent(await snapshot(dest, USER)), byContent(await snapshot(source, USER), corpus.mapping));

  const again = JSON.parse((await cutover(['copy', ...sourceArgs(), ...destArgs(), '--state', state, '--json'], { dataDir: dir })).stdout);
  assert.deepEqual([again.copied, again.matched], [0, 0]);

  // Without the state file, what the destination holds is recognised by fingerprint.
  rmSync(state);
  const lost = JSON.parse((await cutover(['copy', ...sourceArgs(), ...destArgs(), '--state', state, '--json'], { dataDir: dir })).stdout);
  assert.deepEqual([lost.copied, lost.matched], [0, corpus.messages.length]);
  assert.deepEqual(byContent(await snapshot(dest, USER)), byContent(await snapshot(source, USER), corpus.mapping));
});

test('dry run, size limit, exclusions and passwords from the environment or stdin', { timeout: 60_000 }, async () => {
  await resetDest();
  const dry = await cutover(['copy', ...sourceArgs(), '--dest', `imap://${USER}@localhost:${dest.port}`, '--ca', dest.certFile!, '--dest-password-env', 'DEST_PW', '--dry-run', '--json'], { dataDir: dir, env: { DEST_PW: 'alice-pw' } });
  assert.equal(dry.code, 0, dry.stderr);
  assert.equal(JSON.parse(dry.stdout).copied, corpus.messages.length);
  assert.equal((await snapshot(dest, USER)).reduce((n, f) => n + f.messages.length, 0), 0, 'a dry run writes nothing');

  const limited = await cutover(['copy', '--source', `imap://${USER}@127.0.0.1:${source.port}`, '--source-password-stdin', ...destArgs(), '--max-size', '10K', '--exclude', 'Brouillons', '--json'], { dataDir: dir, input: 'alice-pw\n' });
  assert.equal(limited.code, 0, limited.stderr);
  const report = JSON.parse(limited.stdout);
  assert.equal(report.skipped, 1, 'the 144 KB message is over 10K');
  assert.equal(report.copied, corpus.messages.length - 2);
  assert.ok(!report.folders.some((f: { source: string }) => f.source === 'Brouillons'));
});

test('bad input and failures have clear messages and distinct exit codes', { timeout: 60_000 }, async () => {
  const wrong = await cutover(['copy', '--source', `imap://${USER}@127.0.0.1:${source.port}`, '--source-password-file', path.join(dir, 'wrong'), ...destArgs()], { dataDir: dir });
  assert.deepEqual([wrong.code, /AUTH_FAILED.*wrong user name or password/.test(wrong.stderr)], [4, true], wrong.stderr);

  const closed = await freePort();
  const unreachable = await cutover(['copy', '--source', `imap://${USER}@127.0.0.1:${closed}`, '--source-password-file', path.join(dir, 'alice'), ...destArgs()], { dataDir: dir });
  assert.deepEqual([unreachable.code, /HOST_UNREACHABLE.*127\.0\.0\.1/.test(unreachable.stderr)], [3, true], unreachable.stderr);

  const mismatch = await cutover(['copy', ...sourceArgs(), ...destArgs(`imaps://${USER}@127.0.0.1:${dest.tlsPort}`)], { dataDir: dir });
  assert.deepEqual([mismatch.code, /TLS_FAILED.*127\.0\.0\.1/.test(mismatch.stderr)], [5, true], mismatch.stderr);

  const unknownFolder = await cutover(['copy', ...sourceArgs(), ...destArgs(), '--exclude', 'Nope'], { dataDir: dir });
  assert.deepEqual([unknownFolder.code, /FOLDER_UNKNOWN.*"Nope".*it has: INBOX/.test(unknownFolder.stderr)], [6, true], unknownFolder.stderr);

  const badUrl = await cutover(['copy', '--source', 'http://x', '--source-password-file', path.join(dir, 'alice'), ...destArgs()], { dataDir: dir });
  assert.deepEqual([badUrl.code, /is not imap:\/\/USER@HOST/.test(badUrl.stderr)], [2, true]);

  const argvPassword = await cutover(['copy', ...sourceArgs(), '--dest', `imap://${USER}@127.0.0.1:${dest.port}`, '--dest-password', 'alice-pw'], { dataDir: dir });
  assert.equal(argvPassword.code, 2, 'there is no way to give a password on the command line');
});

test('TLS is verified: a pinned CA with the right name passes, --no-tls-verify passes loudly', { timeout: 60_000 }, async () => {
  await resetDest();
  const pinned = await cutover(['copy', ...sourceArgs(), ...destArgs(`imaps://${USER}@localhost:${dest.tlsPort}`), '--json'], { dataDir: dir });
  assert.equal(pinned.code, 0, pinned.stderr);
  await resetDest();
  const unverified = await cutover(['copy', ...sourceArgs(), '--dest', `imaps://${USER}@127.0.0.1:${dest.tlsPort}`, '--dest-password-file', path.join(dir, 'alice'), '--no-tls-verify', '--json'], { dataDir: dir });
  assert.equal(unverified.code, 0, unverified.stderr);
  assert.match(unverified.stderr, /WARNING: TLS certificates are NOT verified/);
  await resetDest();
  const selfSigned = await cutover(['copy', ...sourceArgs(), '--dest', `imap://${USER}@localhost:${dest.port}`, '--dest-password-file', path.join(dir, 'alice')], { dataDir: dir });
  assert.equal(selfSigned.code, 5, 'STARTTLS offered on loopback is used, and its certificate verified');
  const starttls = await cutover(['copy', ...sourceArgs(), ...destArgs(`imap://${USER}@localhost:${dest.port}`), '--json'], { dataDir: dir });
  assert.equal(starttls.code, 0, starttls.stderr);
});

test('URLs, sizes and the plaintext rule', () => {
  assert.deepEqual(parseImapUrl('imaps://bob@mail.example.net', '--x'), { user: 'bob', host: 'mail.example.net', port: 993, implicitTls: true });
  assert.deepEqual(parseImapUrl('imap://a%40b.test@[::1]:1143', '--x'), { user: 'a@b.test', host: '::1', port: 1143, implicitTls: false });
  assert.throws(() => parseImapUrl('imap://host', '--x'), /INPUT_INVALID|not imap/);
  assert.equal(parseSize('25M', '--max-size'), 25 * 1024 * 1024);
  const opts = { tlsVerify: true, allowPlaintext: false };
  assert.equal(endpointFor(parseImapUrl('imap://u@mail.example.net', '--x'), 'p', opts).security, 'starttls', 'STARTTLS is required off loopback');
  assert.equal(endpointFor(parseImapUrl('imap://u@127.0.0.1', '--x'), 'p', opts).security, 'starttls-optional');
  assert.equal(endpointFor(parseImapUrl('imap://u@mail.example.net', '--x'), 'p', { ...opts, allowPlaintext: true }).security, 'starttls-optional');
  assert.deepEqual(endpointFor(parseImapUrl('imap://u@h.test', '--x'), 'p', { ...opts, masterUser: 'admin' }).auth, { user: 'admin', pass: 'p', authzid: 'u' });
});
