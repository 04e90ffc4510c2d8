import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import { addDomain, addMailbox, startDovecot, type DovecotInstance } from '../../server/devservers/dovecot.ts';
import { tempDataDir } from '../support/cli.ts';
import { BAD_KEYWORD, HUGE_UID, startHostileImap, type HostileMode, type HostileServer } from '../support/hostile-imap.ts';
import { hostileSeed, measuredCutover, type MeasuredRun } from '../support/hostile-imap-run.ts';
import { snapshot } from '../support/mail.ts';
import { startTcpProxy } from '../support/tcp-proxy.ts';

// Issue #11, "Mail data": a source that breaks the protocol must end in an exact copy or a clear
// error, within bounded time and memory, and never in a silent loss. Each test runs the real
// `cutover copy` against the hostile server (test/support/hostile-imap.ts) and a real Dovecot.

const DOMAIN = 'example.test';
// The stall timeout of the modes that test it; the others get room for a loaded machine.
const STALL = '3';
const RELAXED = '20';
let hostile: HostileServer;
let dest: DovecotInstance;
let dir: string;
let users = 0;
const figures: Array<{ mode: string; outcome: string; wallMs: number; peakRssMb: number }> = [];

before(async () => {
  [hostile, dest] = await Promise.all([startHostileImap(hostileSeed()), startDovecot()]);
  await addDomain(dest, DOMAIN);
  dir = tempDataDir();
  writeFileSync(path.join(dir, 'pw'), 'pw\n');
});
after(async () => {
  await Promise.all([hostile?.stop(), dest?.stop()]);
  if (figures.length) console.log(`hostile modes:\n${figures.map((f) => `  ${f.mode.padEnd(28)} ${f.outcome.padEnd(44)} ${String(f.wallMs).padStart(7)} ms ${String(f.peakRssMb).padStart(5)} MB`).join('\n')}`);
});

async function freshUser(): Promise<string> {
  const user = `u${++users}@${DOMAIN}`;
  await addMailbox(dest, user, 'pw');
  return user;
}

/** `stall: null` leaves --stall-timeout out (the default); `destPort` reaches the destination another way (a proxy). */
async function copy(t: TestContext, mode: HostileMode | string, user: string, opts: { stall?: string | null; source?: string; extra?: string[]; destPort?: number } = {}): Promise<MeasuredRun> {
  const stall = opts.stall === null ? [] : ['--stall-timeout', opts.stall ?? RELAXED];
  const run = await measuredCutover(['copy', '--source', opts.source ?? `imap://tester@127.0.0.1:${hostile.port}`, '--source-password-file', path.join(dir, 'pw'),
    '--dest', `imap://${user}@127.0.0.1:${opts.destPort ?? dest.port}`, '--dest-password-file', path.join(dir, 'pw'), ...stall, '--json', ...(opts.extra ?? [])], { dataDir: dir, timeoutMs: 90_000 });
  const outcome = `exit ${run.code}${run.stdout.startsWith('{') ? `, ${JSON.parse(run.stdout).copied} copied, ${JSON.parse(run.stdout).failed} failed` : `, ${/error \[(\w+)\]/.exec(run.stderr)?.[1] ?? run.stderr.slice(0, 40)}`}`;
  figures.push({ mode: String(mode), outcome, wallMs: run.wallMs, peakRssMb: run.peakRssMb });
  t.diagnostic(`${mode}: ${outcome}, ${run.wallMs} ms, peak RSS ${run.peakRssMb} MB${run.code === 0 ? '' : `\n${run.stderr.split('\n').find((l) => l.startsWith('error')) ?? ''}`}`);
  return run;
}

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** What the source holds (minus `omit(folder, index)`), as content hash, arrival date and flags per folder; the same shape as the destination's. */
function expected(omit: (folder: string, index: number) => boolean = () => false): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const f of hostile.folders()) {
    const kept = f.messages.filter((_, i) => !omit(f.path, i)).map((m) => `${sha(m.raw)} ${m.internalDate.toISOString()} ${[...m.flags].sort().join(',')}`).sort();
    if (kept.length) out.set(f.path, kept);
  }
  return out;
}

async function onDest(user: string): Promise<Map<string, string[]>> {
  const folders = await snapshot(dest, user);
  return new Map(folders.filter((f) => f.messages.length).map((f) => [f.path, f.messages.map((m) => `${m.sha256} ${m.internalDate} ${m.flags.join(',')}`).sort()]));
}

interface FolderJson { source: string; announced: number; copied: number; matched: number; skipped: number; failed: number; failures: Array<{ uid: number; reason: string }> }

function assertAccounted(report: { folders: FolderJson[] }): void {
  for (const f of report.folders) {
    assert.equal(f.copied + f.matched + f.skipped + f.failed, f.announced, `${f.source}: copied + matched + skipped + failed = announced`);
    assert.equal(f.announced, hostile.folders().find((h) => h.path === f.source)!.messages.length, `${f.source}: every message the server announced`);
  }
}

test('baseline: a well-behaved run of the hostile server is an exact copy', { timeout: 120_000 }, async (t) => {
  hostile.setMode('none');
  const user = await freshUser();
  const run = await copy(t, 'none', user);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(JSON.parse(run.stdout).copied, 39);
  assertAccounted(JSON.parse(run.stdout));
  assert.deepEqual(await onDest(user), expected());
});

test('an unparseable FETCH line (keyword bad"kw) is a failure with the line quoted, never a silent drop', { timeout: 120_000 }, async (t) => {
  hostile.setMode('bad-keyword');
  const user = await freshUser();
  const run = await copy(t, 'bad-keyword', user);
  assert.equal(run.code, 1, `a failed message makes the exit code 1\n${run.stderr}`);
  const report = JSON.parse(run.stdout);
  assert.deepEqual([report.copied, report.failed], [26, 13]);
  assertAccounted(report);
  for (const f of report.folders as FolderJson[]) {
    assert.equal(f.failures.length, 1, f.source);
    assert.equal(f.failures[0]!.uid, 2);
    assert.ok(f.failures[0]!.reason.includes(`FLAGS (`) && f.failures[0]!.reason.includes(BAD_KEYWORD), `the server's line is quoted: ${f.failures[0]!.reason}`);
  }
  assert.deepEqual(await onDest(user), expected((_, i) => i === 1), 'everything else is there, exactly');
});

test('an unreadable message is tried again on the next pass, and lands once the server answers properly', { timeout: 120_000 }, async (t) => {
  const user = await freshUser();
  const state = path.join(dir, `${user}.state`);
  hostile.setMode('bad-keyword');
  const first = await copy(t, 'bad-keyword, then a clean re-run', user, { extra: ['--state', state] });
  assert.equal(first.code, 1, first.stderr);
  hostile.setMode('none');
  const again = await copy(t, 'clean re-run after bad-keyword', user, { extra: ['--state', state] });
  assert.equal(again.code, 0, again.stderr);
  const report = JSON.parse(again.stdout);
  assert.deepEqual([report.copied, report.failed, report.announced], [13, 0, 13], 'only the 13 failed messages were fetched again');
  assert.deepEqual(await onDest(user), expected());
});

test('an unsolicited FETCH (FLAGS) in the middle of a body FETCH is ignored: exact copy', { timeout: 120_000 }, async (t) => {
  hostile.setMode('unsolicited-fetch');
  const user = await freshUser();
  const run = await copy(t, 'unsolicited-fetch', user);
  assert.equal(run.code, 0, run.stderr);
  assertAccounted(JSON.parse(run.stdout));
  assert.deepEqual(await onDest(user), expected());
});

test('a FETCH that returns the same UID twice does not append it twice', { timeout: 120_000 }, async (t) => {
  hostile.setMode('duplicate-uid');
  const user = await freshUser();
  const run = await copy(t, 'duplicate-uid', user);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(JSON.parse(run.stdout).copied, 39);
  assertAccounted(JSON.parse(run.stdout));
  assert.deepEqual(await onDest(user), expected());
});

test('a UID above 2^32-1 is a protocol error with its own exit code', { timeout: 120_000 }, async (t) => {
  hostile.setMode('huge-uid');
  const run = await copy(t, 'huge-uid', await freshUser());
  assert.equal(run.code, 7, run.stderr);
  assert.match(run.stderr, new RegExp(`IMAP_PROTOCOL.*${HUGE_UID}`));
  assert.ok(run.wallMs < 30_000, `the process ends once the error is reported (${run.wallMs} ms)`);
});

test('a source that refuses the FLAGS fetch of a delta pass (GNU imap4d answered BAD once a UID changed under it): an IMAP error quoting the command and the server, exit 7', async (t) => {
  const user = await freshUser();
  const state = path.join(dir, `${user}.state`);
  hostile.setMode('none');
  const first = await copy(t, 'none, then a delta', user, { extra: ['--state', state] });
  assert.equal(first.code, 0, first.stderr);
  hostile.setMode('refuses-flag-fetch');
  const again = await copy(t, 'refuses-flag-fetch', user, { extra: ['--state', state] });
  assert.equal(again.code, 7, again.stderr);
  assert.match(again.stderr, /error \[IMAP_FAILED\]: IMAP UID FETCH \(FLAGS\) in \S+ failed on 127\.0\.0\.1: .*Invalid message set/);
  hostile.setMode('none');
});

test('a line that never ends is cut at the line limit: protocol error, bounded memory', { timeout: 120_000 }, async (t) => {
  hostile.setMode('endless-line');
  const before = hostile.endlessBytes;
  const run = await copy(t, 'endless-line', await freshUser());
  assert.equal(run.code, 7, run.stderr);
  assert.match(run.stderr, /IMAP_PROTOCOL.*line/i);
  assert.ok(run.wallMs < 30_000, `the process ends once the error is reported (${run.wallMs} ms)`);
  assert.ok(run.peakRssMb < 400, `peak RSS ${run.peakRssMb} MB`);
  assert.ok(hostile.endlessBytes - before < 200 * 1024 * 1024, `${hostile.endlessBytes - before} bytes were read before giving up`);
});

test('a server that stops answering FETCH fails the pass within the stall timeout', { timeout: 120_000 }, async (t) => {
  hostile.setMode('stops-answering');
  const run = await copy(t, 'stops-answering', await freshUser(), { stall: STALL });
  assert.equal(run.code, 3, run.stderr);
  assert.match(run.stderr, /IMAP_STALLED.*3 s/);
  assert.ok(run.wallMs < 30_000, `${run.wallMs} ms`);
});

// Issue #12: "a connection that stops answering must fail within seconds", with no option given.
test('with the default stall timeout (15 s), a source that stops answering fails within seconds', { timeout: 120_000 }, async (t) => {
  hostile.setMode('stops-answering');
  const run = await copy(t, 'stops-answering (default)', await freshUser(), { stall: null });
  assert.equal(run.code, 3, run.stderr);
  assert.match(run.stderr, /IMAP_STALLED.*15 s/);
  assert.ok(run.wallMs < 45_000, `${run.wallMs} ms`);
});

test('with the default stall timeout, a destination that stops answering mid-copy fails within seconds', { timeout: 120_000 }, async (t) => {
  hostile.setMode('none');
  const proxy = await startTcpProxy(dest.port);
  try {
    // Everything the destination would send is held back once the first APPEND is on its way.
    let heldAt = 0;
    const watch = setInterval(() => {
      if (heldAt || !proxy.commands.some((c) => c.verb === 'APPEND')) return;
      proxy.hold();
      heldAt = Date.now();
    }, 5);
    const run = await copy(t, 'silent destination (default)', await freshUser(), { stall: null, destPort: proxy.port });
    clearInterval(watch);
    const silentFor = Date.now() - heldAt;
    assert.ok(heldAt > 0, 'the copy reached an APPEND');
    assert.equal(run.code, 3, run.stderr);
    assert.match(run.stderr, /IMAP_STALLED.*15 s/);
    assert.ok(silentFor < 45_000, `failed ${silentFor} ms after the destination fell silent`);
    t.diagnostic(`silent destination: exit ${run.code} ${silentFor} ms after it fell silent`);
  } finally {
    await proxy.stop();
  }
});

// The folder's inspection (SELECT) and the read-back after the appends (EXAMINE) run on the lane's
// appender: a silence there is the folder's stall too, noticed once. With the watchdog paused
// around them it surfaced as the connection's own timeout, the lane logged in again, and that
// login waited a second stall timeout: 30 s.
for (const [verb, during] of [['SELECT', 'the destination folder\'s inspection'], ['EXAMINE', 'the read-back after the appends']]) {
  test(`with the default stall timeout, a destination that stops answering during ${during} (${verb}) fails once, within seconds`, { timeout: 120_000 }, async (t) => {
    hostile.setMode('none');
    const proxy = await startTcpProxy(dest.port);
    try {
      let heldAt = 0;
      const watch = setInterval(() => {
        if (heldAt || !proxy.commands.some((c) => c.verb === verb)) return;
        proxy.hold();
        heldAt = Date.now();
      }, 5);
      const run = await copy(t, `silent destination at ${verb}`, await freshUser(), { stall: null, destPort: proxy.port });
      clearInterval(watch);
      const silentFor = Date.now() - heldAt;
      assert.ok(heldAt > 0, `the copy reached a ${verb}`);
      assert.equal(run.code, 3, run.stderr);
      // The SELECT goes out with its UNSELECT, the read-back's EXAMINE behind the last APPEND: the
      // session's own 15 s timer then starts with the folder's, and either may name the stall first.
      assert.match(run.stderr, /IMAP_STALLED.*15 s (in folder|waiting for an answer)/);
      assert.ok(silentFor < 25_000, `failed ${silentFor} ms after the destination fell silent (one stall timeout is 15 s)`);
      t.diagnostic(`silent destination at ${verb}: exit ${run.code} ${silentFor} ms after it fell silent`);
    } finally {
      await proxy.stop();
    }
  });
}

test('a literal cut short by a closed connection: the folder resumes and the copy is exact', { timeout: 120_000 }, async (t) => {
  hostile.setMode('truncated-literal', { times: 1 });
  const user = await freshUser();
  const run = await copy(t, 'truncated-literal (once)', user);
  assert.equal(run.code, 0, run.stderr);
  assertAccounted(JSON.parse(run.stdout));
  assert.ok(JSON.parse(run.stdout).reconnects >= 1, 'the cut hit the lane reading the folder, which reconnected');
  assert.deepEqual(await onDest(user), expected());
});

test('a literal cut short on every connection ends in a clear error within the stall timeout', { timeout: 120_000 }, async (t) => {
  hostile.setMode('truncated-literal');
  const run = await copy(t, 'truncated-literal (always)', await freshUser(), { stall: STALL });
  assert.equal(run.code, 3, run.stderr);
  assert.match(run.stderr, /IMAP_STALLED/);
  assert.ok(run.wallMs < 30_000, `${run.wallMs} ms`);
});

test('BYE in the middle of a FETCH: the folder resumes on a new connection, exact copy', { timeout: 120_000 }, async (t) => {
  hostile.setMode('bye-mid-fetch', { times: 1 });
  const user = await freshUser();
  const run = await copy(t, 'bye-mid-fetch (once)', user);
  assert.equal(run.code, 0, run.stderr);
  assertAccounted(JSON.parse(run.stdout));
  assert.ok(JSON.parse(run.stdout).reconnects >= 1, 'the BYE hit the lane reading the folder, which reconnected');
  assert.deepEqual(await onDest(user), expected());
});

test('no greeting, or a greeting then silence: a clear error within the stall timeout', { timeout: 120_000 }, async (t) => {
  for (const [mode, words] of [['no-greeting', /no greeting within 3 s/], ['greeting-then-silence', /no answer within 3 s after the greeting/]] as const) {
    hostile.setMode(mode);
    const run = await copy(t, mode, await freshUser(), { stall: STALL });
    assert.equal(run.code, 3, run.stderr);
    assert.match(run.stderr, /HOST_UNREACHABLE.*127\.0\.0\.1/);
    assert.match(run.stderr, words);
    assert.ok(run.wallMs < 30_000, `${run.wallMs} ms`);
  }
});

test('STARTTLS required towards a non-loopback address but not offered: the TLS exit code', { timeout: 120_000 }, async (t) => {
  hostile.setMode('none');
  // ::ffff:127.0.0.1 reaches the server, but is not one of the loopback names a clear-text login is allowed to.
  const run = await copy(t, 'no STARTTLS (non-loopback)', await freshUser(), { source: `imap://tester@[::ffff:127.0.0.1]:${hostile.port}` });
  assert.equal(run.code, 5, run.stderr);
  assert.match(run.stderr, /STARTTLS_MISSING.*does not offer STARTTLS/);
});
