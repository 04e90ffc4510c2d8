import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import knexFactory, { type Knex } from 'knex';
import { postfixMainCf, postfixMaps } from '../../../plugins/postfixadmin/postfix-maps.ts';
import { addMailbox, type DovecotInstance } from '../../../server/devservers/dovecot.ts';
import type { PlatformConnector } from '../../../server/plugins/contract.ts';
import { startPostfix, type PostfixInstance } from '../../../server/devservers/postfix.ts';
import { releaseRelayWhenDomainDone } from '../../../server/workflow/relay-release.ts';
import { runMailboxStep } from '../../../server/workflow/runner.ts';
import type { StepContext } from '../../../server/workflow/types.ts';
import { imapAs, rawMessage, seed } from '../../support/mail.ts';
import { atStep, startMigration, type Migration } from '../../support/mailbox-migration.ts';
import { DOMAIN, NEW_MX, OLD_MX } from '../../support/platforms.ts';
import { openSmtp, type SmtpReply, type SmtpSession } from '../../support/smtp.ts';

// The non-authoritative relay with real servers: old host = Postfix + Dovecot (LMTP), new host =
// Postfix running the lookups of plugins/postfixadmin/postfix-maps.ts + Dovecot (LMTP), the
// workflow between them. The old platform's mailHost is 127.0.0.1, the relay row's target.

const ALICE = { address: `alice@${DOMAIN}`, password: 'alice-pw' };
const BOB = { address: `bob@${DOMAIN}`, password: 'bob-pw' };
const CAROL = { address: `carol@${DOMAIN}`, password: 'carol-pw' };
const ALICE_TEMP = `alice01@${DOMAIN}`;
/** Created on the old host after the project: no migration covers him. */
const DAVE = `dave@${DOMAIN}`;
const DELIVERY_TIMEOUT_MS = 60_000;

let m: Migration;
let oldMx: PostfixInstance;
let newMx: PostfixInstance;
let newDb: Knex;
let oldDb: Knex;

before(async () => {
  m = await startMigration({ accounts: [ALICE, BOB, CAROL], old: { lmtp: true }, new: { lmtp: true }, oldMailHost: '127.0.0.1' });
  await seed(m.land.old, ALICE.address, [{ folder: 'INBOX', raw: rawMessage({ subject: 'seeded before the migration' }) }]);
  oldMx = await startPostfix({ hostname: OLD_MX, dbPath: m.land.old.dbPath, lmtpPort: m.land.old.lmtpPort! });
  newMx = await startPostfix({ hostname: NEW_MX, dbPath: m.land.new.dbPath, lmtpPort: m.land.new.lmtpPort!, relay: { port: oldMx.port } });
  newDb = knexFactory({ client: 'sqlite3', connection: { filename: m.land.new.dbPath }, useNullAsDefault: true, pool: { min: 0, max: 1 } });
  oldDb = knexFactory({ client: 'sqlite3', connection: { filename: m.land.old.dbPath }, useNullAsDefault: true, pool: { min: 0, max: 1 } });
});

after(async () => {
  await newDb?.destroy();
  await oldDb?.destroy();
  await Promise.allSettled([newMx?.stop(), oldMx?.stop()]);
  await m?.close();
});

interface Sent { rcpt: Record<string, SmtpReply>; queueId: string | null }

// smtpd waits up to 3 × 3 s for the probe of an address not held here; on a loaded machine it
// may answer 450 "address verification in progress" first, and a sender tries again, as here.
async function rcptTo(smtp: SmtpSession, to: string): Promise<SmtpReply> {
  const deadline = Date.now() + DELIVERY_TIMEOUT_MS;
  for (;;) {
    const reply = await smtp.command(`RCPT TO:<${to}>`);
    if (reply.code !== 450 || !/verification in progress/i.test(reply.text) || Date.now() > deadline) return reply;
    await sleep(1_000);
  }
}

/** One SMTP transaction to the new host's Postfix, the way a sender whose DNS points to it would. */
async function send(recipients: string[], subject: string): Promise<Sent> {
  const smtp = await openSmtp(newMx.host, newMx.port);
  try {
    assert.equal((await smtp.command('MAIL FROM:<sender@elsewhere.test>')).code, 250);
    const rcpt: Record<string, SmtpReply> = {};
    for (const to of recipients) rcpt[to] = await rcptTo(smtp, to);
    if (!Object.values(rcpt).some((r) => r.code === 250)) return { rcpt, queueId: null };
    const reply = await smtp.data(rawMessage({ subject }));
    assert.equal(reply.code, 250, reply.text);
    return { rcpt, queueId: /queued as (\w+)/.exec(reply.text)![1]! };
  } finally {
    await smtp.close();
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits for the maillog line of the delivery attempt of `queueId` to `to`, and returns it. */
async function deliveryLine(mx: PostfixInstance, queueId: string, to: string): Promise<string> {
  const deadline = Date.now() + DELIVERY_TIMEOUT_MS;
  for (;;) {
    const line = (await mx.readLog()).split('\n').find((l) => l.includes(`${queueId}: to=<${to}>`) && /status=(sent|bounced|deferred)/.test(l));
    if (line) return line;
    if (Date.now() > deadline) throw new Error(`no delivery line for ${queueId} to ${to}; maillog:\n${await mx.readLog()}`);
    await sleep(100);
  }
}

/** The old host's queue id for a message the new host relayed (its "queued as" in the smtp line). */
function relayedAs(line: string): string {
  return /status=sent \(250 [^)]*queued as (\w+)\)/.exec(line)![1]!;
}

async function subjects(inst: DovecotInstance, address: string): Promise<string[]> {
  const client = await imapAs(inst, address);
  try {
    await client.mailboxOpen('INBOX', { readOnly: true });
    const found: string[] = [];
    for await (const msg of client.fetch('1:*', { envelope: true })) found.push(msg.envelope!.subject!);
    return found;
  } catch (err) {
    if (/Mailbox is empty|Invalid messageset/i.test(String(err))) return [];
    throw err;
  } finally {
    await client.logout();
  }
}

async function connectors(): Promise<{ source: PlatformConnector; dest: PlatformConnector }> {
  const project = await m.app.db('projects').where({ id: m.projectId }).first();
  return { source: await m.app.connector(project.source_platform_id), dest: await m.app.connector(project.dest_platform_id) };
}

async function lastFinalizeMessage(mailboxId: number): Promise<string> {
  const event = await m.app.db('events').where({ mailbox_id: mailboxId, step: 'finalize' }).orderBy('id', 'desc').first();
  return event.message;
}

function relayRows(): Promise<Array<{ domain: string; mode: string; relay_host: string }>> {
  return newDb('cutover_domain_relay').select('domain', 'mode', 'relay_host');
}

test('attach-domain writes the relay row; the original address, between rename and creation, is relayed to the renamed account on the old host', async () => {
  await m.runUntil(ALICE.address, atStep('create-destination'));
  assert.deepEqual(await relayRows(), [{ domain: DOMAIN, mode: 'nonAuthoritative', relay_host: '127.0.0.1' }]);
  assert.equal((await m.mailbox(ALICE.address)).temp_address, ALICE_TEMP);

  const sent = await send([ALICE.address], 'in the gap');
  assert.equal(sent.rcpt[ALICE.address]!.code, 250, sent.rcpt[ALICE.address]!.text);
  const line = await deliveryLine(newMx, sent.queueId!, ALICE.address);
  assert.match(line, new RegExp(`postfix/smtp\\[\\d+\\]: ${sent.queueId}: to=<${ALICE.address}>, relay=127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\]:${oldMx.port},.* status=sent`));
  // The old host's own alias (written by the rename) takes it to the renamed mailbox.
  await deliveryLine(oldMx, relayedAs(line), ALICE_TEMP);
  assert.ok((await subjects(m.land.old, ALICE_TEMP)).includes('in the gap'));

  // The copy takes it along with the rest.
  await m.runUntil(ALICE.address, atStep('delta-sync'));
  assert.deepEqual((await subjects(m.land.new, ALICE.address)).sort(), ['in the gap', 'seeded before the migration']);
});

// Postfix's queue manager keeps a one-entry resolve cache (src/global/resolve_clnt.c) that only
// another address replaces: right after the mailbox is created, the next message to that very
// address still takes the route it took last. The old host's alias takes it to the temporary
// account, where the delta pass finds it (checked in (d)).
test('the queue manager routes the next message to the just-created address the way it routed the last one', async () => {
  const sent = await send([ALICE.address], 'right after creation');
  const line = await deliveryLine(newMx, sent.queueId!, ALICE.address);
  assert.match(line, new RegExp(`postfix/smtp\\[\\d+\\]: ${sent.queueId}: to=<${ALICE.address}>, relay=127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\]:${oldMx.port},.* status=sent`));
  await deliveryLine(oldMx, relayedAs(line), ALICE_TEMP);
});

test('(b) an unmigrated address and the temporary address are relayed to the old host', async (t) => {
  const sent = await send([BOB.address, ALICE_TEMP], 'to the old host');
  for (const to of [BOB.address, ALICE_TEMP]) {
    assert.equal(sent.rcpt[to]!.code, 250, `${to}: ${sent.rcpt[to]!.text}`);
    const line = await deliveryLine(newMx, sent.queueId!, to);
    assert.match(line, new RegExp(`postfix/smtp\\[\\d+\\]: ${sent.queueId}: to=<${to}>, relay=127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\]:${oldMx.port},.* status=sent`));
    const oldLine = await deliveryLine(oldMx, relayedAs(line), to);
    assert.match(oldLine, new RegExp(`postfix/lmtp\\[\\d+\\]: \\w+: to=<${to}>, relay=127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\]:${m.land.old.lmtpPort},.* status=sent`));
    t.diagnostic(`(b) new: ${line}`);
    t.diagnostic(`(b) old: ${oldLine}`);
  }
  assert.ok((await subjects(m.land.old, BOB.address)).includes('to the old host'));
  assert.ok((await subjects(m.land.old, ALICE_TEMP)).includes('to the old host'));
  assert.ok(!(await subjects(m.land.new, ALICE.address)).includes('to the old host'), 'not delivered on the new host (yet)');
});

test('(a) a migrated address is delivered to the new Dovecot', async (t) => {
  const sent = await send([ALICE.address], 'to the migrated address');
  assert.equal(sent.rcpt[ALICE.address]!.code, 250, sent.rcpt[ALICE.address]!.text);
  const line = await deliveryLine(newMx, sent.queueId!, ALICE.address);
  assert.match(line, new RegExp(`postfix/lmtp\\[\\d+\\]: ${sent.queueId}: to=<${ALICE.address}>, relay=127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\]:${m.land.new.lmtpPort},.* status=sent \\(250 2\\.0\\.0 <${ALICE.address}> .* Saved\\)`));
  t.diagnostic(`(a) ${line}`);
  assert.ok((await subjects(m.land.new, ALICE.address)).includes('to the migrated address'));
  assert.ok(!(await subjects(m.land.old, ALICE_TEMP)).includes('to the migrated address'));
});

test('(c) an address unknown on both hosts is refused at RCPT, after the old host refused the probe', async (t) => {
  const nobody = `nobody@${DOMAIN}`;
  const sent = await send([nobody], 'to nobody');
  assert.equal(sent.queueId, null, 'nothing was queued');
  assert.equal(sent.rcpt[nobody]!.code, 550, sent.rcpt[nobody]!.text);
  assert.match(sent.rcpt[nobody]!.text, /^5\.1\.1 <nobody@example\.test>: Recipient address rejected: undeliverable address: host 127\.0\.0\.1\[127\.0\.0\.1\] said: 550 5\.1\.1 .*User unknown in virtual mailbox table/);
  const log = (await newMx.readLog()).split('\n');
  const reject = log.find((l) => l.includes(`reject: RCPT`) && l.includes(`to=<${nobody}>`));
  assert.ok(reject, 'smtpd logged the refusal');
  const probe = (await oldMx.readLog()).split('\n').find((l) => l.includes('reject: RCPT') && l.includes(`to=<${nobody}>`));
  assert.ok(probe, 'the old host refused the address-verification probe');
  t.diagnostic(`(c) new: ${reject}`);
  t.diagnostic(`(c) old: ${probe}`);
  // Mail from outside to a domain neither host serves is still no open relay.
  const elsewhere = await send(['someone@elsewhere.test'], 'relay attempt');
  assert.equal(elsewhere.rcpt['someone@elsewhere.test']!.code, 554);
});

test('(d) mail relayed to the old host during the overlap reaches the new mailbox through the delta pass', async (t) => {
  const sent = await send([ALICE_TEMP], 'relayed during the overlap');
  const line = await deliveryLine(newMx, sent.queueId!, ALICE_TEMP);
  assert.match(line, /postfix\/smtp\[\d+\]: .* status=sent/);
  const oldLine = await deliveryLine(oldMx, relayedAs(line), ALICE_TEMP);
  t.diagnostic(`(d) new: ${line}`);
  t.diagnostic(`(d) old: ${oldLine}`);
  assert.ok(!(await subjects(m.land.new, ALICE.address)).includes('relayed during the overlap'));

  const row = await m.runUntil(ALICE.address, atStep('finalize'));
  assert.ok(row.sync_passes >= 2, `delta passes ran (${row.sync_passes} passes)`);
  const got = await subjects(m.land.new, ALICE.address);
  assert.ok(got.includes('relayed during the overlap'), got.join(', '));
  assert.ok(got.includes('to the old host'), 'and the one relayed in (b)');
  assert.ok(got.includes('right after creation'), 'and the one the resolve cache relayed');
});

test('the relay stays while another mailbox of the domain is unfinished, and goes when the last ones finish together', async () => {
  const alice = await m.runUntil(ALICE.address, (r) => r.state === 'done');
  assert.equal(alice.step, 'finalize');
  assert.equal((await relayRows()).length, 1, 'bob and carol are still on the old host');
  assert.match(await lastFinalizeMessage(alice.id), /example\.test is still relayed to the old host for 2 mailbox\(es\) not finished/);
  // Still relayed: bob's mail goes on reaching him on the old host.
  assert.equal((await send([BOB.address], 'bob still old')).rcpt[BOB.address]!.code, 250);

  // Bob and Carol reach finalize, then finish at the same moment: each finds the other at the
  // last step, both remove the relay, and the second removal finds nothing to do.
  await m.runUntil(BOB.address, atStep('finalize'));
  await m.runUntil(CAROL.address, atStep('finalize'));
  assert.equal((await relayRows()).length, 1);
  const [bob, carol] = await Promise.all([m.mailbox(BOB.address), m.mailbox(CAROL.address)]);
  await Promise.all([runMailboxStep(m.app, bob.id, 'worker-1'), runMailboxStep(m.app, carol.id, 'worker-2')]);
  assert.equal((await m.mailbox(BOB.address)).state, 'done');
  assert.equal((await m.mailbox(CAROL.address)).state, 'done');
  assert.deepEqual(await relayRows(), []);
  const finals = await Promise.all([lastFinalizeMessage(bob.id), lastFinalizeMessage(carol.id)]);
  assert.ok(finals.some((message) => /example\.test no longer relayed to the old host/.test(message)), finals.join('\n'));
  assert.deepEqual(await (await connectors()).dest.detachRelay!(DOMAIN), { removed: false }, 'idempotent');

  // The domain is now the new host's alone. Bob was the last address the queue manager routed
  // (to the old host): once more that way, until a reload empties the cache.
  const cached = await send([BOB.address], 'after the migration, cached route');
  assert.match(await deliveryLine(newMx, cached.queueId!, BOB.address), /postfix\/smtp\[\d+\]: .* status=sent/);
  await newMx.reload();
  const after = await send([ALICE_TEMP, BOB.address, CAROL.address], 'after the migration');
  assert.equal(after.rcpt[ALICE_TEMP]!.code, 550, 'the temporary address is no longer relayed');
  assert.match(after.rcpt[ALICE_TEMP]!.text, /User unknown in virtual mailbox table/);
  for (const to of [BOB.address, CAROL.address]) {
    assert.equal(after.rcpt[to]!.code, 250);
    assert.match(await deliveryLine(newMx, after.queueId!, to), /postfix\/lmtp\[\d+\]: .* status=sent/);
  }
});

test('an account on the old host that no migration covers keeps the relay after the last mailbox finished', async () => {
  const { source, dest } = await connectors();
  await dest.attachDomain(DOMAIN, 'nonAuthoritative', '127.0.0.1');
  await addMailbox(m.land.old, DAVE, 'dave-pw');
  const carol = await m.mailbox(CAROL.address);
  const project = await m.app.db('projects').where({ id: m.projectId }).first();
  const domain = await m.app.db('domains').where({ id: carol.domain_id }).first();
  const ctx = { db: m.app.db, project, domain, mailbox: carol, source, dest } as unknown as StepContext;

  assert.equal(await releaseRelayWhenDomainDone(ctx, 'finalize'), `; ${DOMAIN} is still relayed to the old host, which has 1 account(s) no migration covers (${DAVE})`);
  assert.equal((await relayRows()).length, 1);
  const toDave = await send([DAVE], 'dave on the old host');
  assert.equal(toDave.rcpt[DAVE]!.code, 250, toDave.rcpt[DAVE]!.text);
  assert.match(await deliveryLine(newMx, toDave.queueId!, DAVE), /postfix\/smtp\[\d+\]: .* status=sent/, 'his mail still reaches him on the old host');

  await oldDb('alias').where({ address: DAVE }).delete();
  await oldDb('mailbox').where({ username: DAVE }).delete();
  assert.equal(await releaseRelayWhenDomainDone(ctx, 'finalize'), `; ${DOMAIN} no longer relayed to the old host`);
  assert.deepEqual(await relayRows(), []);
});

test('neither Postfix logged a warning, a lookup problem or a fatal error', async () => {
  for (const mx of [newMx, oldMx]) {
    // The machine's clock against the file system's (a shared VM's clock stepping) says nothing of the configuration.
    const clock = /warning: (file system clock is \d+ seconds? ahead of local clock|resetting file time stamps)/;
    const bad = (await mx.readLog()).split('\n').filter((l) => /\b(warning|error|fatal|panic):/.test(l) && !clock.test(l));
    assert.deepEqual(bad, [], mx.maillog);
  }
});

test('the README gives the exact lookups and main.cf lines this Postfix runs', () => {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  for (const map of postfixMaps()) assert.ok(readme.includes(`query = ${map.query}`), `README lacks the ${map.parameter} query:\n${map.query}`);
  for (const line of postfixMainCf('/etc/postfix/sql', 'lmtp:inet:127.0.0.1:24', postfixMaps())) assert.ok(readme.includes(line), `README lacks: ${line}`);
});
