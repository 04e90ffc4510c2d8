import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { addMailbox, type DovecotInstance } from '../../server/devservers/dovecot.ts';
import { startTcpProxy, type CommandThrottle, type TcpProxy } from '../support/tcp-proxy.ts';
import { copier, dovecotAccounts, DOVECOT_NS, holdings, missingAndDoubled, seedCorpus, type Account, type Held } from '../interop/support.ts';

// Issue #12: Microsoft 365 throttling on the SOURCE side. A real Dovecot holds the mailbox; the
// proxy in front of it answers as Exchange Online does (what users report and Microsoft
// documents): "Request is throttled. Suggested Backoff Time: N milliseconds", "Server
// Unavailable. 15", "User is authenticated but not connected.", a BYE, late answers; and it hides
// what Exchange lacks (LIST-STATUS, so a STATUS per folder; COMPRESS; CONDSTORE). Each scenario is
// `cutover copy` into a fresh destination account, which must end exact: nothing lost or doubled.

let source: DovecotInstance;
let proxy: TcpProxy;
let alice: Account;
let expected: Held[];
let users = 0;

before(async () => {
  const { inst, accounts } = await dovecotAccounts(['alice@example.test']);
  source = inst;
  alice = accounts[0]!;
  await seedCorpus(alice, DOVECOT_NS);
  expected = await holdings(alice);
  proxy = await startTcpProxy(source.port);
  proxy.hideCapabilities(['LIST-STATUS', 'COMPRESS=DEFLATE', 'CONDSTORE', 'QRESYNC']);
});
after(async () => {
  await proxy?.stop();
  await source?.stop();
});

async function freshDest(): Promise<Account> {
  const user = `dest${++users}@example.test`;
  await addMailbox(source, user, 'pw-dest');
  return { name: 'dovecot', host: source.host, port: source.port, user, password: 'pw-dest' };
}

/** A copy from alice (through the throttling proxy) into a new account; how many commands the proxy answered itself. */
async function throttledCopy(throttle: CommandThrottle) {
  const dest = await freshDest();
  const before = proxy.commands.length;
  proxy.throttleCommands(throttle);
  const copy = copier({ ...alice, port: proxy.port }, dest);
  const started = Date.now();
  const run = await copy.run({ timeoutMs: 150_000 });
  proxy.throttleCommands({ ...throttle, times: 0 });
  const refused = proxy.commands.slice(before).filter((c) => c.throttled).length;
  return { run, dest, copy, refused, seconds: (Date.now() - started) / 1000 };
}

const scenarios: Array<[string, CommandThrottle]> = [
  ['FETCH: BAD Request is throttled, Suggested Backoff Time', { verbs: ['FETCH'], times: 3, reply: 'BAD Request is throttled. Suggested Backoff Time: 800 milliseconds' }],
  ['SELECT/EXAMINE: NO Server Unavailable. 15', { verbs: ['SELECT', 'EXAMINE'], times: 2, reply: 'NO Server Unavailable. 15' }],
  ['EXAMINE: BAD User is authenticated but not connected', { verbs: ['EXAMINE'], times: 2, reply: 'BAD User is authenticated but not connected.' }],
  ['STATUS: NO [UNAVAILABLE] Server Unavailable. 15', { verbs: ['STATUS'], times: 10, reply: 'NO [UNAVAILABLE] Server Unavailable. 15' }],
  ['FETCH: BYE mid-session', { verbs: ['FETCH'], times: 1, reply: 'Connection is closed. 13', bye: true }],
  ['FETCH: throttled answer after 2 s', { verbs: ['FETCH'], times: 2, reply: 'NO Request is throttled. Suggested Backoff Time: 500 milliseconds', delayMs: 2_000 }],
];

for (const [name, throttle] of scenarios) {
  test(`source throttled, ${name}: the copy waits, resumes and ends exact`, { timeout: 120_000 }, async (t) => {
    const { run, dest, copy, refused, seconds } = await throttledCopy(throttle);
    try {
      t.diagnostic(`${name}: exit ${run.result.code}, ${refused} refused by the proxy, ${seconds.toFixed(1)} s, ${run.report?.copied} copied`);
      assert.equal(run.result.code, 0, run.result.stderr);
      assert.ok(refused >= 1, 'the proxy refused at least one command');
      assert.deepEqual(missingAndDoubled(expected, await holdings(dest)), { missing: 0, doubled: 0 });
      assert.equal(run.report?.copied, expected.length);
    } finally {
      copy.cleanup();
    }
  });
}

test('a throttle that never ends: a clear error, a non-zero exit, and the next run resumes exact', { timeout: 240_000 }, async (t) => {
  const { run, dest, copy, refused, seconds } = await throttledCopy({ verbs: ['FETCH'], times: Infinity, reply: 'BAD Request is throttled. Suggested Backoff Time: 200 milliseconds' });
  try {
    t.diagnostic(`endless throttle: exit ${run.result.code} after ${seconds.toFixed(1)} s, ${refused} refused; ${run.result.stderr.split('\n').find((l) => l.startsWith('error'))}`);
    assert.equal(run.result.code, 3, run.result.stderr);
    assert.match(run.result.stderr, /IMAP_THROTTLED.*kept refusing folder "[^"]+" for throttling \(6 times over \d+ s; last answer: "Request is throttled\. Suggested Backoff Time: 200 milliseconds"\)/);
    // Once the server lets it, the same state file resumes: exact, nothing doubled.
    const again = await copy.run();
    assert.equal(again.result.code, 0, again.result.stderr);
    assert.deepEqual(missingAndDoubled(expected, await holdings(dest)), { missing: 0, doubled: 0 });
  } finally {
    copy.cleanup();
  }
});
