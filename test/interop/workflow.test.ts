import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import knexFactory from 'knex';
import { startCourier } from '../../server/devservers/courier.ts';
import { startCyrus } from '../../server/devservers/cyrus.ts';
import { addDomain, addMailbox, startDovecot, type DovecotInstance } from '../../server/devservers/dovecot.ts';
import type { ImapServerInstance } from '../../server/devservers/imap-server.ts';
import { startImap4d } from '../../server/devservers/imap4d.ts';
import { startKnot, type KnotInstance } from '../../server/devservers/knot.ts';
import { cutover, tempDataDir } from '../support/cli.ts';
import { NEW_MX, NEW_SPF, OLD_DNS, OLD_MX } from '../support/platforms.ts';
import { writeAccountsCsv, writeImapConfig } from '../plugins/imap/support.ts';
import { DOVECOT_NS, holdings, missingAndDoubled, seedCorpus, type Account } from './support.ts';

// The whole workflow (migrate --accounts, the imap plugin on both sides) with each non-Dovecot
// server once as the source (→ Dovecot) and once as the destination (Dovecot →): what the copy
// step of `cutover copy` proves per server must hold through preflight, passes, delta and finalize,
// and what the server altered must reach the admin as a warning on the mailbox's timeline.

type Kind = ImapServerInstance['kind'];
const starters: Record<Kind, () => Promise<ImapServerInstance>> = { cyrus: startCyrus, courier: startCourier, imap4d: startImap4d };
const servers = {} as Record<Kind, ImapServerInstance>;
let dovecot: DovecotInstance;

before(async () => {
  const started = await Promise.allSettled([startDovecot(), ...Object.values(starters).map((start) => start())]);
  for (const s of started) if (s.status === 'fulfilled' && 'kind' in s.value) servers[s.value.kind as Kind] = s.value as ImapServerInstance;
  if (started[0]!.status === 'fulfilled') dovecot = started[0]!.value as DovecotInstance;
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
});

after(async () => { await Promise.allSettled([dovecot?.stop(), ...Object.values(servers).map((s) => s.stop())]); });

interface Case { kind: Kind; role: 'source' | 'destination'; alteration: RegExp | null }

// What each server alters on APPEND (test/interop/*.test.ts): as the source, the alteration is
// Dovecot's, which does not keep an arrival date decades ahead that Cyrus and Courier kept (imap4d
// replaced it when seeded); as the destination, the server's own.
const FAR_FUTURE = /arrival date 2090-06-07T08:09:10Z stored as/;
const CASES: Case[] = [
  { kind: 'cyrus', role: 'source', alteration: FAR_FUTURE },
  { kind: 'courier', role: 'source', alteration: FAR_FUTURE },
  { kind: 'imap4d', role: 'source', alteration: null },
  { kind: 'cyrus', role: 'destination', alteration: /header rewritten/ },
  { kind: 'courier', role: 'destination', alteration: null },
  { kind: 'imap4d', role: 'destination', alteration: /arrival date 2024-03-04T05:06:07Z stored as/ },
];

function openDb(dataDir: string) {
  return knexFactory({ client: 'sqlite3', connection: { filename: path.join(dataDir, 'cutover.sqlite') }, useNullAsDefault: true });
}

/** The project's mailboxes, read from the database (a `cutover status` beside the migrate would contend for its lock). */
async function mailboxes(dataDir: string, project: string): Promise<Array<{ address: string; state: string; step: string }>> {
  const db = openDb(dataDir);
  try {
    const row = await db('projects').where({ name: project }).first();
    return row ? await db('mailboxes').where({ project_id: row.id }).orderBy('address').select('address', 'state', 'step') : [];
  } catch {
    return [];
  } finally {
    await db.destroy();
  }
}

async function until(what: string, check: () => Promise<boolean>, ended: () => string | undefined, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    const end = ended();
    assert.equal(end, undefined, `migrate ended before ${what}: ${end}`);
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** One case: its own domain, zone, data directory and account, so cases may run side by side. */
async function runCase(c: Case): Promise<void> {
  const server = servers[c.kind];
  const domain = `${c.kind}-${c.role === 'source' ? 'src' : 'dst'}.test`;
  const address = `alice@${domain}`;
  const project = `${c.kind}-${c.role}`;
  const dataDir = tempDataDir();
  let dns: KnotInstance | undefined;
  try {
    dns = await startKnot({ zone: domain, records: OLD_DNS });
    await addDomain(dovecot, domain);
    await addMailbox(dovecot, address, 'on-dovecot');
    await server.addUser(address, `on-${c.kind}`);
    const onDovecot: Account = { name: 'dovecot', host: dovecot.host, port: dovecot.port, user: address, password: 'on-dovecot' };
    const onServer: Account = { name: c.kind, host: server.host, port: server.port, user: address, password: `on-${c.kind}` };
    const [from, to] = c.role === 'source' ? [onServer, onDovecot] : [onDovecot, onServer];
    await seedCorpus(from, c.role === 'source' ? server.namespace : DOVECOT_NS);

    for (const [name, inst, mailHost] of [['old', from, OLD_MX], ['new', to, NEW_MX]] as const) {
      const added = await cutover(['platform', 'add', name, '--plugin', 'imap', '--config', writeImapConfig(inst, dataDir, name, { mailHost })], { dataDir });
      assert.equal(added.code, 0, added.stderr);
    }
    const csv = writeAccountsCsv(dataDir, 'accounts.csv', [{ address, sourcePassword: from.password, destPassword: to.password }]);
    const sourceBefore = await holdings(from);
    const migration = cutover(['migrate', '--from', 'old', '--to', 'new', '--domain', domain, '--accounts', csv, '--wait', '--json', '--overlap', '0',
      '--nameserver', `127.0.0.1:${dns.port}`, '--dns-recheck', '1', '--name', project], { dataDir, timeoutMs: 150_000 });
    let ended: string | undefined;
    void migration.then((r) => { ended = `exit ${r.code}\n${r.stdout}\n${r.stderr}`; });

    // An imap destination cannot attach a domain: the admin does it and confirms, once per domain.
    await until(`${project}: attach-domain to need an admin`, async () => (await mailboxes(dataDir, project)).some((m) => m.step === 'attach-domain' && m.state === 'needs_admin'), () => ended);
    const confirmed = await cutover(['confirm', '--project', project, '--domain', domain, '--step', 'attach-domain'], { dataDir });
    assert.equal(confirmed.code, 0, confirmed.stderr);
    await until(`${project}: dns-cutover to wait for the records`, async () => (await mailboxes(dataDir, project)).some((m) => m.step === 'dns-cutover' && m.state === 'waiting'), () => ended);
    await dns.update([`del ${domain}. MX`, `del ${domain}. TXT`, `add ${domain}. 300 MX 10 ${NEW_MX}.`, `add ${domain}. 300 TXT "v=spf1 include:${NEW_SPF} -all"`]);

    const result = await migration;
    assert.equal(result.code, 0, `${project}: ${result.stderr}`);
    assert.deepEqual(JSON.parse(result.stdout).mailboxes.map((m: { address: string; state: string }) => [m.address, m.state]), [[address, 'done']]);
    const counts = missingAndDoubled(sourceBefore, await holdings(to));
    assert.deepEqual(counts, { missing: 0, doubled: 0 }, `${project}: nothing lost, nothing doubled`);

    const db = openDb(dataDir);
    const warnings = await db('events').where({ outcome: 'progress' }).andWhere('message', 'like', 'Warning: the destination stored%').pluck('message').finally(() => db.destroy());
    if (c.alteration) assert.match(warnings.join('\n'), c.alteration, `${project}: the alteration is on the timeline`);
    else assert.deepEqual(warnings, [], `${project}: nothing altered, nothing warned`);
  } finally {
    await dns?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

describe('the workflow, imap plugin on both sides, with each server as the source and as the destination', { concurrency: 3 }, () => {
  for (const c of CASES) {
    const label = c.role === 'source' ? `${c.kind} → dovecot` : `dovecot → ${c.kind}`;
    test(`${label}: migrate --accounts until done, nothing lost or doubled, alterations warned`, { timeout: 180_000 }, () => runCase(c));
  }
});
