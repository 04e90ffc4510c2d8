import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { addDomain, addMailbox, startDovecot, type DovecotInstance } from '../../server/devservers/dovecot.ts';
import { copyMailbox, type CopyProgress, type CopyReport } from '../../server/mail/copy.ts';
import { CutoverError } from '../../server/errors.ts';
import type { FolderPlanEntry } from '../../server/mail/folders.ts';
import { closeQuietly, openImap } from '../../server/mail/imap.ts';
import type { LedgerStore } from '../../server/mail/ledger.ts';
import { buildFolderPlan } from '../../server/mail/plan.ts';
import { openStateLedger } from '../../server/mail/state-file.ts';
import type { ImapEndpoint } from '../../server/plugins/contract.ts';
import { createLogger } from '../../server/log.ts';
import { rawMessage, seed, snapshot, type FolderSnapshot, type SeedMessage, uidNexts } from '../support/mail.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';

// Resilience (issue #3): connections cut in the middle of a FETCH and of an APPEND, an APPEND
// whose OK never arrives, `doveadm kick` on either side, and a throttling destination. Every
// copy must end identical to an undisturbed one, with nothing doubled and nothing missing, and
// a re-run must copy nothing.

delete process.env.CUTOVER_CRASH_AT;

const DOMAIN = 'example.test';
const PASSWORD = 'pw-not-used-master-login';
const SOURCE_USER = `fault-source@${DOMAIN}`;

let source: DovecotInstance; // '/' separator, no prefix
let dest: DovecotInstance; // '.' separator, 'INBOX.' prefix (Courier style)
let sourceSnapshot: FolderSnapshot[];
let corpusMessages = 0;
let corpusBytes = 0;
let workDir: string;
const proxies: TcpProxy[] = [];
const ledgers: Array<{ close(): Promise<void> }> = [];

function endpoint(inst: DovecotInstance, address: string, via?: TcpProxy): ImapEndpoint {
  return { host: '127.0.0.1', port: via ? via.port : inst.port, security: 'none', tlsVerify: false, auth: { user: `${address}*${inst.masterUser}`, pass: inst.masterPassword } };
}

// ---------------------------------------------------------------- the corpus

/** A body of base64 lines (76 characters), `bytes` long give or take a line: content unique to this message. */
function body(bytes: number): string {
  const line = 76;
  const lines = Math.max(1, Math.round(bytes / (line + 2)));
  const b64 = randomBytes(Math.ceil((lines * line * 3) / 4)).toString('base64');
  const out: string[] = [];
  for (let i = 0; i < lines; i++) out.push(b64.slice(i * line, (i + 1) * line));
  return `${out.join('\r\n')}\r\n`;
}

const FLAG_SETS = [['\\Seen'], [], ['\\Seen', '\\Flagged'], ['\\Answered', '\\Seen', '$Label1'], ['Projet'], ['\\Seen', '$Forwarded']];

/**
 * 326 messages, about 19 MB: 320 of 20-50 KB over four folders (one of them special-use, one
 * nested), two exact-duplicate pairs, and two large messages (3 MB, 4.5 MB).
 */
function buildCorpus(): SeedMessage[] {
  const messages: SeedMessage[] = [];
  const folders: Array<[string, number]> = [['INBOX', 120], ['Archives', 90], ['Archives/2023', 60], ['Sent', 50]];
  let n = 0;
  for (const [folder, count] of folders) {
    for (let i = 0; i < count; i++) {
      n++;
      const size = 20_000 + ((n * 7919) % 30_000);
      const date = new Date(Date.UTC(2020 + (n % 5), n % 12, 1 + (n % 28), n % 24, n % 60, n % 60));
      messages.push({ folder, raw: rawMessage({ subject: `${folder} message ${i}`, body: body(size) }), flags: FLAG_SETS[n % FLAG_SETS.length]!, date });
    }
  }
  const dup = (folder: string, raw: string, date: Date) => { messages.push({ folder, raw, flags: ['\\Seen'], date }, { folder, raw, flags: ['\\Seen'], date }); };
  dup('INBOX', rawMessage({ subject: 'exact duplicate', messageId: '<dup@example.org>', body: body(25_000) }), new Date('2024-04-05T06:07:08Z'));
  dup('Archives', rawMessage({ subject: 'duplicate without Message-ID', messageId: null, body: body(30_000) }), new Date('2023-03-04T05:06:07Z'));
  messages.splice(37, 0, { folder: 'INBOX', raw: rawMessage({ subject: 'large one', body: body(3_000_000) }), flags: ['\\Seen'], date: new Date('2024-01-01T00:00:00Z') });
  messages.splice(150, 0, { folder: 'Archives', raw: rawMessage({ subject: 'larger one', body: body(4_500_000) }), flags: [], date: new Date('2023-01-01T00:00:00Z') });
  return messages;
}

before(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'cutover-faults-'));
  [source, dest] = await Promise.all([startDovecot({ separator: '/', prefix: '' }), startDovecot({ separator: '.', prefix: 'INBOX.' })]);
  await addDomain(source, DOMAIN);
  await addDomain(dest, DOMAIN);
  await addMailbox(source, SOURCE_USER, PASSWORD);
  const corpus = buildCorpus();
  corpusMessages = corpus.length;
  corpusBytes = corpus.reduce((sum, m) => sum + Buffer.byteLength(m.raw), 0);
  await seed(source, SOURCE_USER, corpus);
  sourceSnapshot = await snapshot(source, SOURCE_USER);
});

after(async () => {
  await Promise.allSettled(proxies.map((p) => p.stop()));
  await Promise.allSettled(ledgers.map((l) => l.close()));
  await Promise.allSettled([source?.stop(), dest?.stop()]);
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

// ---------------------------------------------------------------- scenarios

interface Scenario {
  destUser: string;
  plan: FolderPlanEntry[];
  ledger: LedgerStore;
  /** The disturbed copy, and its report once it resolved. */
  running?: Promise<CopyReport>;
  first?: CopyReport;
  /** The destination as verified against the source. */
  destSnapshot?: FolderSnapshot[];
}

let scenarioCount = 0;

/** A fresh destination account, the folder plan to it, and a ledger in its own SQLite state file. */
async function newScenario(): Promise<Scenario> {
  scenarioCount++;
  const destUser = `fault-dest-${scenarioCount}@${DOMAIN}`;
  await addMailbox(dest, destUser, PASSWORD);
  const a = await openImap(endpoint(source, SOURCE_USER));
  const b = await openImap(endpoint(dest, destUser));
  let plan: FolderPlanEntry[];
  try {
    plan = await buildFolderPlan(a, b, [], '127.0.0.1');
  } finally {
    await closeQuietly(a);
    await closeQuietly(b);
  }
  const state = await openStateLedger(join(workDir, `state-${scenarioCount}.sqlite`));
  ledgers.push(state);
  return { destUser, plan, ledger: state.ledger };
}

async function proxy(inst: DovecotInstance): Promise<TcpProxy> {
  const p = await startTcpProxy(inst.port);
  proxies.push(p);
  return p;
}

interface CopyOpts { sourceVia?: TcpProxy; destVia?: TcpProxy; pass?: number; concurrency?: number; onProgress?: (p: CopyProgress) => void }

function copy(s: Scenario, opts: CopyOpts = {}): Promise<CopyReport> {
  return copyMailbox({
    source: endpoint(source, SOURCE_USER, opts.sourceVia), dest: endpoint(dest, s.destUser, opts.destVia),
    plan: s.plan, ledger: s.ledger, pass: opts.pass ?? 1, concurrency: opts.concurrency, onProgress: opts.onProgress,
    // FAULTS_DEBUG=1: the lanes' restarts, logged on stderr.
    ...(process.env.FAULTS_DEBUG && { log: createLogger('debug') }),
  });
}

/**
 * The disturbed copy. The scenario keeps it for the re-run test, whatever happens to this test:
 * node:test ends a test at an unhandled rejection without waiting for it, and the copy goes on.
 */
async function disturbedCopy(s: Scenario, opts: CopyOpts): Promise<CopyReport> {
  s.running = copy(s, opts);
  s.first = await s.running;
  return s.first;
}

/**
 * The destination holds, in every planned folder, exactly the source folder's messages (content
 * hash, flags and keywords, INTERNALDATE) as a multiset: one missing or one doubled fails; every
 * message is counted once in the report and accounted for in the ledger.
 */
async function assertIdentical(s: Scenario, report: CopyReport): Promise<void> {
  const destSnapshot = await snapshot(dest, s.destUser);
  s.destSnapshot = destSnapshot;
  const src = new Map(sourceSnapshot.map((f) => [f.path, f]));
  const dst = new Map(destSnapshot.map((f) => [f.path, f]));
  const planned = new Set<string>();
  let checked = 0;
  for (const entry of s.plan.filter((e) => !e.excluded && e.selectable)) {
    planned.add(entry.dest);
    const from = src.get(entry.source);
    const to = dst.get(entry.dest);
    assert.ok(from, `source folder ${entry.source} missing`);
    assert.ok(to, `destination folder ${entry.dest} (from ${entry.source}) was not created`);
    assert.equal(to.messages.length, from.messages.length, `${entry.source} → ${entry.dest}: ${to.messages.length} messages for ${from.messages.length} (duplicate or missing)`);
    assert.deepEqual(to.messages, from.messages, `${entry.source} → ${entry.dest}`);
    checked += to.messages.length;
  }
  for (const folder of destSnapshot) {
    if (!planned.has(folder.path)) assert.equal(folder.messages.length, 0, `unplanned destination folder ${folder.path} holds mail`);
  }
  assert.equal(checked, corpusMessages, 'every message of the corpus was compared');
  assert.deepEqual([report.skipped, report.failed], [0, 0], 'nothing skipped, nothing refused');
  assert.equal(report.copied + report.matched, corpusMessages, `copied ${report.copied} + matched ${report.matched}: each message counted once`);
  assert.equal(await s.ledger.handledCount(), corpusMessages, 'the ledger accounts for every message once');
}


/**
 * (4) After the disturbed copy, a re-run with the same ledger appends nothing and changes nothing.
 * Waits for the disturbed copy first; if its test ended before checking the result, checks it here.
 */
async function assertRerunCopiesNothing(s: Scenario | undefined): Promise<void> {
  assert.ok(s?.running, 'the disturbed copy never started');
  s.first = await s.running;
  if (!s.destSnapshot) await assertIdentical(s, s.first);
  const before = s.destSnapshot!;
  const uids = await uidNexts(dest, s.destUser);
  const again = await copy(s, { pass: 2 });
  assert.deepEqual([again.copied, again.bytes, again.matched, again.skipped, again.failed], [0, 0, 0, 0, 0]);
  assert.deepEqual(await snapshot(dest, s.destUser), before, 'destination unchanged');
  assert.deepEqual(await uidNexts(dest, s.destUser), uids, 'no APPEND at all');
}

/** A hung copy fails its test instead of the whole file. */
const LIMIT = { timeout: 45_000 };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------- (1) source cut mid-FETCH

let fetchCut: Scenario | undefined;


test('(1) source connections cut in the middle of a FETCH, the destination busy with an APPEND: the copy reconnects, resumes and ends identical', LIMIT, async () => {
  const s = fetchCut = await newScenario();
  const via = await proxy(source);
  const destVia = await proxy(dest);
  // Message bodies are nearly all of the server→client bytes: 30 % of the corpus in, the cut falls
  // inside one. The destination is held from a little before the cut to a little after, as when
  // it is the slower side: the lanes' writers are waiting on an APPEND when their reader fails.
  // (The hold ends after 3 s whatever happens, so a reader stopped by the byte budget cannot deadlock the test.)
  const third = Math.round(corpusBytes * 0.3);
  void via.afterBytes('down', third).then(async () => {
    destVia.hold();
    await sleep(3_000);
    destVia.resume();
  });
  const cut = via.cutAfter('down', third + 500_000).then(async (record) => {
    await sleep(300);
    destVia.resume();
    return record;
  });
  const report = await disturbedCopy(s, { sourceVia: via, destVia });
  const record = await Promise.race([cut, sleep(0).then(() => undefined)]);
  assert.ok(record, 'the cut never happened: the copy finished before the threshold');
  assert.match(record.unit, /^\* \d+ FETCH /, `cut inside a FETCH response (was: ${record.unit.slice(0, 120)})`);
  // The proxy counts compressed bytes, so the cut falls on a chunk boundary: sometimes inside a
  // body, sometimes right after its last byte, still inside the FETCH response; both are mid-FETCH.
  assert.ok(record.inLiteral || (record.literalSize > 0 && record.literalSent === record.literalSize), `cut in a message's data (${record.literalSent}/${record.literalSize} bytes sent)`);
  assert.ok(report.reconnects >= 1, `reconnects: ${report.reconnects}`);
  await assertIdentical(s, report);
});

test('(4) re-run after the FETCH cut copies nothing', LIMIT, () => assertRerunCopiesNothing(fetchCut));

// ---------------------------------------------------------------- (2) destination cut mid-APPEND

let appendCut: Scenario | undefined;

test('(2) destination connections cut in the middle of a MULTIAPPEND (half-sent batch): no duplicate, nothing missing', LIMIT, async () => {
  const s = appendCut = await newScenario();
  const via = await proxy(dest);
  const cut = via.cutAfter('up', Math.round(corpusBytes * 0.4));
  const report = await disturbedCopy(s, { destVia: via });
  const record = await Promise.race([cut, sleep(0).then(() => undefined)]);
  assert.ok(record, 'the cut never happened');
  assert.match(record.unit, /^A\d+ APPEND /, `cut inside an APPEND command (was: ${record.unit.slice(0, 120)})`);
  assert.ok(record.inLiteral, `cut inside message ${record.literalIndex} of the batch (${record.literalSent}/${record.literalSize} bytes sent)`);
  assert.ok(report.reconnects >= 1, `reconnects: ${report.reconnects}`);
  await assertIdentical(s, report);
});

test('(4) re-run after the APPEND cut copies nothing', LIMIT, () => assertRerunCopiesNothing(appendCut));

// ---------------------------------------------------------------- (2b) the APPEND is stored, its OK is lost

let ackLost: Scenario | undefined;

test('(2b) connection lost after the server stored a MULTIAPPEND batch but before its OK arrived: matched by fingerprint, not appended twice', LIMIT, async () => {
  const s = ackLost = await newScenario();
  const via = await proxy(dest);
  const cut = via.cutBeforeServerLine(/^A\d+ OK \[APPENDUID /);
  const report = await disturbedCopy(s, { destVia: via });
  const record = await Promise.race([cut, sleep(0).then(() => undefined)]);
  assert.ok(record, 'the cut never happened');
  assert.ok(report.reconnects >= 1, `reconnects: ${report.reconnects}`);
  assert.ok(report.matched >= 1, `the stored but unacknowledged batch is recognised on the destination (matched: ${report.matched})`);
  await assertIdentical(s, report);
});

test('(4) re-run after the lost APPEND answer copies nothing', LIMIT, () => assertRerunCopiesNothing(ackLost));

// ---------------------------------------------------------------- (2c) one fault, one restart


test('(2c) one destination cut costs the lane one restart: it does not pick the dead connections left idle in the pool', LIMIT, async () => {
  const s = await newScenario();
  const via = await proxy(dest);
  // One lane at a time: the destination connection that made the folders and inspected this one waits idle in the pool when the cut comes.
  const cut = via.cutAfter('up', Math.round(corpusBytes * 0.2));
  const report = await disturbedCopy(s, { destVia: via, concurrency: 1 });
  const record = await Promise.race([cut, sleep(0).then(() => undefined)]);
  assert.ok(record, 'the cut never happened');
  const destFolder = /^\S+ APPEND "([^"]*)"/.exec(record.unit)?.[1];
  const lane = report.folders.find((f) => f.dest === destFolder);
  assert.ok(lane, `the cut fell in an APPEND to a planned folder (${record.unit.slice(0, 80)})`);
  await assertIdentical(s, report);
  assert.equal(lane.reconnects, 1, `${lane.source}: ${lane.reconnects} restarts for one cut`);
});

// ---------------------------------------------------------------- (3) doveadm kick

/**
 * Kicks the user on `inst` once `after` messages are copied. The proxy of that side holds all
 * traffic meanwhile, so the copy cannot finish before the kick lands: it falls on live sessions.
 * `busy`, when given, is held from before the kick until a while after: the other side is
 * slower, as a destination usually is.
 */
function kickDuringCopy(inst: DovecotInstance, user: string, via: TcpProxy, after: number, busy?: TcpProxy) {
  let kicked: Promise<void> | undefined;
  return {
    onProgress(p: CopyProgress) {
      if (kicked || p.totalCopied < after) return;
      via.hold();
      busy?.hold();
      kicked = (async () => {
        try {
          await inst.kick(user);
          await sleep(100);
          via.resume();
          if (busy) await sleep(300);
        } finally {
          via.resume();
          busy?.resume();
        }
      })();
    },
    done: () => kicked,
  };
}

let kickSource: Scenario | undefined;

test('(3) doveadm kick of the user on the source while the copy runs (the destination busy): the copy resumes and ends identical', LIMIT, async () => {
  const s = kickSource = await newScenario();
  const via = await proxy(source);
  const destVia = await proxy(dest);
  const kick = kickDuringCopy(source, SOURCE_USER, via, 0, destVia);
  // Kicked while the folders are being read (30 % of the corpus through the source proxy): the
  // reader runs ahead of the appends, so a count of messages stored can come after the last read.
  void via.afterBytes('down', Math.round(corpusBytes * 0.3)).then(() => kick.onProgress({ totalCopied: 0 } as CopyProgress));
  const report = await disturbedCopy(s, { sourceVia: via, destVia });
  assert.ok(kick.done(), 'the kick was never triggered');
  await kick.done();
  assert.equal(via.cuts.length + destVia.cuts.length, 0, 'the proxies themselves cut nothing');
  assert.ok(report.reconnects >= 1, `reconnects: ${report.reconnects}`);
  await assertIdentical(s, report);
});

test('(4) re-run after the source kick copies nothing', LIMIT, () => assertRerunCopiesNothing(kickSource));

let kickDest: Scenario | undefined;

test('(3) doveadm kick of the user on the destination while the copy runs: the copy resumes and ends identical', LIMIT, async () => {
  const s = kickDest = await newScenario();
  const via = await proxy(dest);
  const kick = kickDuringCopy(dest, s.destUser, via, 40);
  const report = await disturbedCopy(s, { destVia: via, onProgress: kick.onProgress });
  assert.ok(kick.done(), 'the kick was never triggered');
  await kick.done();
  assert.equal(via.cuts.length, 0, 'the proxy itself cut nothing');
  assert.ok(report.reconnects >= 1, `reconnects: ${report.reconnects}`);
  await assertIdentical(s, report);
});

test('(4) re-run after the destination kick copies nothing', LIMIT, () => assertRerunCopiesNothing(kickDest));

// ---------------------------------------------------------------- (5) throttling

// Exchange Online's words; its backoff hint is in milliseconds.
const BACKOFF_MS = 1_500;
const THROTTLED = `NO [UNAVAILABLE] Request is throttled. Suggested Backoff Time: ${BACKOFF_MS} milliseconds`;

let throttled: Scenario | undefined;

test('(5) a throttled APPEND (NO [UNAVAILABLE] … Suggested Backoff Time) slows that folder down for the suggested time; the copy completes and skips nothing', LIMIT, async () => {
  const s = throttled = await newScenario();
  const via = await proxy(dest);
  via.throttleAppends({ times: 1, reply: THROTTLED });
  const report = await disturbedCopy(s, { destVia: via });
  const appends = via.commands.filter((c) => c.verb === 'APPEND');
  const refused = appends.filter((c) => c.throttled);
  assert.equal(refused.length, 1, 'exactly one APPEND was answered with the throttling NO');
  const folder = (line: string) => /^\S+ APPEND ("(?:[^"\\]|\\.)*"|\S+)/i.exec(line)?.[1];
  const throttledFolder = folder(refused[0]!.line);
  // The APPEND already sent behind the throttled one (appends are pipelined) is not the retry: the lane retries on a new session.
  const retry = appends.find((c) => c.at >= refused[0]!.at && !c.throttled && folder(c.line) === throttledFolder && c.connection !== refused[0]!.connection);
  assert.ok(retry, `the throttled folder ${throttledFolder} was appended to again`);
  const waited = retry.at - refused[0]!.at;
  assert.ok(waited >= BACKOFF_MS - 50, `the next APPEND to ${throttledFolder} came ${waited} ms after the throttling answer, not after the suggested ${BACKOFF_MS} ms`);
  assert.ok(report.seconds * 1000 >= BACKOFF_MS - 50, `the copy took ${report.seconds} s`);
  await assertIdentical(s, report);
});

test('(4) re-run after throttling copies nothing', LIMIT, () => assertRerunCopiesNothing(throttled));

test('(5b) a destination that throttles every APPEND stops the pass with IMAP_THROTTLED naming the destination, not the source', LIMIT, async () => {
  const s = await newScenario();
  const via = await proxy(dest);
  via.throttleAppends({ times: Infinity, reply: THROTTLED });
  // The destination by another loopback name, so the error can only name it by being right.
  const err = await copyMailbox({ source: endpoint(source, SOURCE_USER), dest: { ...endpoint(dest, s.destUser, via), host: 'localhost' }, plan: s.plan, ledger: s.ledger, pass: 1 })
    .then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof CutoverError && err.code === 'IMAP_THROTTLED', String(err));
  assert.equal(err.params.host, 'localhost');
  assert.match(err.message, /^localhost kept refusing .*Suggested Backoff Time/);
});

// (6) A refused message (over quota) going to the skip list, not retried as transient: copy.test.ts (g).

// ---------------------------------------------------------------- a small delta on one lane

test('a delta of a few messages in two folders takes one source login (list and read) and one destination login (list, inspect, append), and lands whole', LIMIT, async () => {
  const sourceUser = `delta-source@${DOMAIN}`;
  await addMailbox(source, sourceUser, PASSWORD);
  const message = (folder: string, n: number): SeedMessage => ({ folder, raw: rawMessage({ subject: `${folder} ${n}`, body: body(3_000) }), flags: ['\\Seen'] });
  await seed(source, sourceUser, [...[1, 2, 3].map((n) => message('INBOX', n)), ...[1, 2].map((n) => message('Sent', n))]);
  const s = await newScenario();
  const a = await openImap(endpoint(source, sourceUser));
  const b = await openImap(endpoint(dest, s.destUser));
  try {
    s.plan = await buildFolderPlan(a, b, [], '127.0.0.1');
  } finally {
    await closeQuietly(a);
    await closeQuietly(b);
  }
  const run = (via: { sourceVia?: TcpProxy; destVia?: TcpProxy }, pass: number) => copyMailbox({
    source: endpoint(source, sourceUser, via.sourceVia), dest: endpoint(dest, s.destUser, via.destVia), plan: s.plan, ledger: s.ledger, pass,
  });
  assert.equal((await run({}, 1)).copied, 5);
  await seed(source, sourceUser, [...[4, 5, 6].map((n) => message('INBOX', n)), ...[3, 4].map((n) => message('Sent', n))]);

  const sourceVia = await proxy(source);
  const destVia = await proxy(dest);
  const report = await run({ sourceVia, destVia }, 2);
  assert.deepEqual(report.folders.filter((f) => f.copied).map((f) => [f.source, f.copied]).sort(), [['INBOX', 3], ['Sent', 2]]);
  // The folders were listed, then both read one after the other, on one source connection; the
  // destination had one connection, the appender's, to list, inspect both folders (SELECT, never
  // an imapflow login of its own) and append, though four lanes were allowed.
  assert.equal(sourceVia.accepted, 1);
  assert.equal(destVia.accepted, 1);
  const verbs = destVia.commands.map((c) => c.verb);
  assert.equal(verbs.filter((v) => v === 'SELECT').length, 2, `one read-write SELECT per folder (sent: ${verbs.join(' ')})`);
  assert.ok(!verbs.includes('CLOSE'), 'no CLOSE: it would expunge \\Deleted messages');
  assert.ok(!verbs.includes('ID') && !verbs.includes('ENABLE'), `no imapflow session (sent: ${verbs.join(' ')})`);
  // Each folder's inspection sends its SELECT and UNSELECT together, and its read-back (EXAMINE and
  // FETCH) goes out behind its last APPEND: 6 round trips here; 8 when the UNSELECT waited for the
  // SELECT, 10 when the read-back waited for the APPEND's answer, 12 when its FETCH waited for the EXAMINE.
  assert.ok(destVia.roundTrips <= 6, `destination round trips: ${destVia.roundTrips} (sent: ${verbs.join(' ')})`);
  const byPath = (folders: FolderSnapshot[]) => new Map(folders.map((f) => [f.path, f.messages]));
  const [from, to] = [byPath(await snapshot(source, sourceUser)), byPath(await snapshot(dest, s.destUser))];
  for (const entry of s.plan.filter((e) => e.selectable)) assert.deepEqual(to.get(entry.dest) ?? [], from.get(entry.source) ?? [], `${entry.source} → ${entry.dest}`);
  assert.equal([...to.values()].flat().length, 10);
});
