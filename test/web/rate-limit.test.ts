import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ADMIN, Client, startPanel } from './client.ts';

// Parallel guesses, lockout as a denial of service, and the per-address limit, against a real panel.
// Other client machines are other loopback addresses (127.0.0.2, …): Linux routes all of 127/8 to lo.
let panel: Awaited<ReturnType<typeof startPanel>>;
const LIMIT = 5;

before(async () => {
  panel = await startPanel({ loginAttempts: LIMIT, loginAttemptsPerAddress: 12, loginWindowMs: 60_000, loginNameDelayMs: 50 });
});
after(async () => { await panel?.close(); });

/** Posts the login form `count` times at once from one session, the right password at `rightAt`; returns the statuses. */
async function guessAtOnce(client: Client, count: number, rightAt: number): Promise<number[]> {
  const token = await client.token('/login');
  const posts = Array.from({ length: count }, (_, i) => client.request('/login', { form: { _csrf: token, name: ADMIN.name, password: i === rightAt ? ADMIN.password : `wrong ${i}` } }));
  return (await Promise.all(posts)).map((r) => r.status);
}

test('400 guesses sent at once from one address: only the limit is checked, the right one among the rest does not log in', async () => {
  const attacker = new Client(panel.url, {}, '127.0.0.2');
  const statuses = await guessAtOnce(attacker, 400, 200);
  const checked = statuses.filter((s) => s === 401 || s === 303).length;
  console.log(`login race: ${statuses.length} guesses sent at once, ${checked} checked, ${statuses.filter((s) => s === 429).length} refused unchecked, ${statuses.filter((s) => s === 303).length} logged in`);
  assert.ok(checked <= LIMIT, `${checked} guesses were checked, the limit is ${LIMIT}`);
  assert.equal(statuses.filter((s) => s === 429).length, 400 - checked);
  assert.equal(await attacker.request('/').then((r) => r.status), 303, 'not logged in');
});

test('an admin name hammered from many addresses is slowed down, not locked: its admin still logs in, from a known-good address and from a new one', async () => {
  const name = 'hammered';
  const password = 'the right password for hammered';
  const { insertUser } = await import('../../server/db/repos/users.ts');
  const { hashPassword } = await import('../../server/web/passwords.ts');
  await insertUser(panel.app.db, name, await hashPassword(password));
  const office = new Client(panel.url, {}, '127.0.0.10');
  assert.equal((await office.login(name, password)).status, 303, 'a first login makes 127.0.0.10 a known-good address for this admin');

  for (const address of ['127.0.0.11', '127.0.0.12', '127.0.0.13']) {
    const attacker = new Client(panel.url, {}, address);
    for (let i = 0; i < LIMIT; i++) assert.equal((await attacker.login(name, `guess ${i}`)).status, 401, address);
    assert.equal((await attacker.login(name, password)).status, 429, 'the name+address limit holds, right password or not');
  }

  assert.equal((await new Client(panel.url, {}, '127.0.0.10').login(name, password)).status, 303, 'from the known-good address');
  assert.equal((await new Client(panel.url, {}, '127.0.0.14').login(name, password)).status, 303, 'from a new address, after a slowdown');
});

test('one address trying many names is stopped by the per-address limit', async () => {
  const sprayer = new Client(panel.url, {}, '127.0.0.20');
  for (let i = 0; i < 12; i++) assert.equal((await sprayer.login(`name${i}`, 'password1234')).status, 401);
  const refused = await sprayer.login(ADMIN.name, ADMIN.password);
  assert.equal(refused.status, 429);
  assert.ok(Number(refused.headers.get('retry-after')) > 0);
  assert.equal((await new Client(panel.url, {}, '127.0.0.21').login()).status, 303, 'another address is not affected');
});

test('the limiter, on a fake clock: reservations before the hash, a per-name queue, known-good addresses skip it, the window forgets', async () => {
  const { LoginLimiter } = await import('../../server/web/rate-limit.ts');
  let now = 1_000_000;
  const limiter = new LoginLimiter({ perPair: 2, perAddress: 5, windowMs: 60_000, nameDelayMs: 1000, maxNameWaitMs: 2500 }, () => now);
  const taken = (t: ReturnType<typeof limiter.reserve>) => (t.allowed ? `ok+${t.delayMs}` : `wait ${t.retryAfterMs}`);

  // Two reservations at the same instant fill the pair limit before either hash has run.
  assert.equal(taken(limiter.reserve('root', 'a')), 'ok+0');
  assert.equal(taken(limiter.reserve('root', 'a')), 'ok+0');
  assert.equal(taken(limiter.reserve('root', 'a')), 'wait 60000');
  // The name now has 2 failures: from other addresses, one at a time, 1 s apart; past 2.5 s of queue, refused for now.
  assert.deepEqual(['b', 'c', 'd', 'e'].map((a) => taken(limiter.reserve('root', a))), ['ok+0', 'ok+1000', 'ok+2000', 'wait 3000']);
  limiter.rememberGood('root', 'office');
  assert.equal(taken(limiter.reserve('root', 'office')), 'ok+0', 'a known-good address does not queue');
  // A success gives its reservation back and clears its pair.
  const ticket = limiter.reserve('other', 'f');
  assert.ok(ticket.allowed);
  ticket.succeeded();
  assert.equal(limiter.isKnownGood('other', 'f'), true);
  assert.equal(limiter.isSlowed('root'), true);
  now += 60_001;
  assert.equal(limiter.isSlowed('root'), false, 'the window forgets');
  assert.equal(taken(limiter.reserve('root', 'a')), 'ok+0');
});
