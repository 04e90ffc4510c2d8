// `npm run bench:fleet`: a domain of FLEET_MAILBOXES (1,000) mailboxes × FLEET_MESSAGES (20) small
// messages on a Dovecot host with PostfixAdmin SQL, migrated to a second one through `cutover
// migrate` and `cutover run` workers, end to end (preflight → finalize), three times:
// SQLite with 1 worker, PostgreSQL with 1 and with 3 worker processes (2 cores here).
// A fourth run with empty mailboxes on SQLite measures the workflow's own cost (CPU and queries per
// mailbox without a message to copy). While each run goes, a panel (`serve --no-worker`) on the same
// database is asked for the project page every 250 ms: its p95 is reported.
// Checks the end state exactly: every mailbox done, every message once (files in the destination
// maildirs, ledger rows), every account renamed once and created once, attach-domain run once.
// Environment: FLEET_MAILBOXES, FLEET_MESSAGES, FLEET_CONCURRENCY (8 per worker), FLEET_RUNS
// (sqlite_1w,pg_1w,pg_3w,noncopy). The last line is one JSON object.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import knexFactory from 'knex';
import { hashPassword } from '../../plugins/postfixadmin/password.ts';
import { connect } from '../../server/db/knex.ts';
import { freePort } from '../../server/devservers/ports.ts';
import { startPostgres, type PostgresInstance } from '../../server/devservers/postgres.ts';
import { cutover, tempDataDir } from '../support/cli.ts';
import { DOMAIN, NEW_DNS, NEW_MX, OLD_MX, startLandscape, writePlatformConfig, type Landscape } from '../support/platforms.ts';
import { ADMIN, Client } from '../web/client.ts';

const int = (name: string, def: number) => { const v = Number(process.env[name] ?? def); if (!Number.isInteger(v) || v < 0) throw new Error(`${name}: not a whole number`); return v; };
const MAILBOXES = int('FLEET_MAILBOXES', 1000);
const MESSAGES = int('FLEET_MESSAGES', 20);
const CONCURRENCY = int('FLEET_CONCURRENCY', 8);
const VMAIL = 65534;

interface RunSpec { name: string; db: 'sqlite' | 'pg'; workers: number; messages: number }
const ALL: RunSpec[] = [
  { name: 'sqlite_1w', db: 'sqlite', workers: 1, messages: MESSAGES },
  { name: 'pg_1w', db: 'pg', workers: 1, messages: MESSAGES },
  { name: 'pg_3w', db: 'pg', workers: 3, messages: MESSAGES },
  { name: 'noncopy', db: 'sqlite', workers: 1, messages: 0 },
];
const wanted = (process.env.FLEET_RUNS ?? ALL.map((r) => r.name).join(',')).split(',');
const RUNS = ALL.filter((r) => wanted.includes(r.name));

interface RunResult {
  name: string; seconds: number; perMin: number; cpuMsPerMailbox: number; queriesPerMailbox: number;
  peakRssMb: number[]; pageP95Ms: number; pageRequests: number; exact: boolean; problems: string[];
}

const local = (i: number) => `user${String(i).padStart(5, '0')}`;

function message(i: number, n: number): string {
  return [`From: Sender ${n} <sender${n}@example.net>`, `To: ${local(i)}@${DOMAIN}`, `Subject: fleet ${i}/${n}`, `Message-ID: <fleet-${i}-${n}@example.net>`,
    `Date: Mon, 1 Jan 2024 10:${String(n % 60).padStart(2, '0')}:00 +0000`, 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', '',
    `Message ${n} of mailbox ${i}.`, 'x'.repeat(400), ''].join('\r\n');
}

/** Accounts in the PostfixAdmin tables and their mail written straight into maildirs (as Dovecot would store it). */
async function seedOld(land: Landscape, messages: number): Promise<void> {
  const db = knexFactory({ client: 'sqlite3', connection: { filename: land.old.dbPath }, useNullAsDefault: true });
  try {
    // startLandscape already added the domain.
    const hash = hashPassword('fleet-pw');
    const rows = Array.from({ length: MAILBOXES }, (_, i) => ({ username: `${local(i)}@${DOMAIN}`, password: hash, maildir: `${DOMAIN}/${local(i)}/`, quota: 0, local_part: local(i), domain: DOMAIN }));
    await db.transaction(async (trx) => {
      for (let i = 0; i < rows.length; i += 200) {
        await trx('mailbox').insert(rows.slice(i, i + 200));
        await trx('alias').insert(rows.slice(i, i + 200).map((r) => ({ address: r.username, goto: r.username, domain: DOMAIN })));
      }
    });
  } finally {
    await db.destroy();
  }
  const base = Math.floor(Date.UTC(2024, 0, 1) / 1000);
  for (let i = 0; i < MAILBOXES; i++) {
    const maildir = path.join(land.old.mailRoot, DOMAIN, local(i), 'Maildir');
    for (const sub of ['cur', 'new', 'tmp']) mkdirSync(path.join(maildir, sub), { recursive: true });
    for (let n = 0; n < messages; n++) writeFileSync(path.join(maildir, 'cur', `${base + n}.M${n}P${i}.fleet:2,${n % 2 ? 'S' : ''}`), message(i, n));
  }
  spawnSync('chown', ['-R', `${VMAIL}:${VMAIL}`, path.join(land.old.mailRoot, DOMAIN)]);
}

function countFiles(dir: string): number {
  if (!existsSync(dir)) return 0;
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) n += ['cur', 'new'].includes(e.name) ? readdirSync(path.join(dir, e.name)).length : countFiles(path.join(dir, e.name));
  }
  return n;
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function run(spec: RunSpec, pg: PostgresInstance | undefined): Promise<RunResult> {
  const problems: string[] = [];
  const land = await startLandscape({ accounts: [], dns: NEW_DNS, old: { specialUse: false } });
  const panelPort = await freePort();
  let panel: ReturnType<typeof cutover> | undefined;
  try {
    await seedOld(land, spec.messages);
    const dataDir = tempDataDir();
    const env: Record<string, string> = { CUTOVER_LOG_LEVEL: 'error', ...(spec.db === 'pg' && { DATABASE_URL: await pg!.createDatabase(`fleet_${spec.name}_${Date.now()}`) }) };
    for (const [name, inst, mx] of [['old', land.old, OLD_MX], ['new', land.new, NEW_MX]] as const) {
      const r = await cutover(['platform', 'add', name, '--plugin', 'postfixadmin', '--config', writePlatformConfig(inst, dataDir, name, mx)], { dataDir, env });
      if (r.code !== 0) throw new Error(r.stderr);
    }
    const admin = await cutover(['admin', 'create', ADMIN.name], { dataDir, env, input: `${ADMIN.password}\n` });
    if (admin.code !== 0) throw new Error(admin.stderr);
    const migrate = await cutover(['migrate', '--from', 'old', '--to', 'new', '--domain', DOMAIN, '--overlap', '0', '--nameserver', `127.0.0.1:${land.dns.port}`, '--name', 'fleet'], { dataDir, env, timeoutMs: 600_000 });
    if (migrate.code !== 0) throw new Error(migrate.stderr);

    panel = cutover(['serve', '--no-worker', '--port', String(panelPort)], { dataDir, env, timeoutMs: 24 * 3600_000 });
    const client = new Client(`http://127.0.0.1:${panelPort}`);
    for (let i = 0; ; i++) { try { if ((await client.login()).status === 303) break; } catch { /* starting */ } if (i > 300) throw new Error('panel did not start'); await new Promise((r) => setTimeout(r, 100)); }

    const statsFiles = Array.from({ length: spec.workers }, (_, i) => path.join(dataDir, `stats-${i}.json`));
    const started = performance.now();
    const workers = statsFiles.map((file, i) => cutover(['run', '--until-idle', '--concurrency', String(CONCURRENCY)], {
      dataDir, env: { ...env, CUTOVER_WORKER_ID: `fleet-${i + 1}`, CUTOVER_STATS_FILE: file }, timeoutMs: 24 * 3600_000,
    }));
    let finished = false;
    const latencies: number[] = [];
    const poll = (async () => {
      while (!finished) {
        const t0 = performance.now();
        const res = await client.request('/projects/1');
        if (res.status === 200) latencies.push(performance.now() - t0);
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    const results = await Promise.all(workers);
    const seconds = (performance.now() - started) / 1000;
    finished = true;
    await poll;
    for (const [i, r] of results.entries()) if (r.code !== 0) problems.push(`worker ${i + 1} exited ${r.code}: ${r.stderr.slice(-500)}`);
    const stats = statsFiles.map((f) => JSON.parse(readFileSync(f, 'utf8')) as { queries: number; cpuMs: number; maxRssKb: number });

    // The end state, exactly.
    const db = connect(dataDir, env.DATABASE_URL);
    try {
      const states: Array<{ state: string; n: number | string }> = await db('mailboxes').select('state').count({ n: '*' }).groupBy('state');
      const done = Number(states.find((s) => s.state === 'done')?.n ?? 0);
      if (done !== MAILBOXES) problems.push(`mailboxes done: ${done} of ${MAILBOXES} (${JSON.stringify(states)})`);
      const ledger = Number((await db('ledger').count({ n: '*' }).first())!.n);
      if (ledger !== MAILBOXES * spec.messages) problems.push(`ledger rows ${ledger}, expected ${MAILBOXES * spec.messages}`);
      for (const step of ['rename-source', 'create-destination', 'copy-mail']) {
        const twice = await db('events').select('mailbox_id').where({ step, outcome: 'done' }).groupBy('mailbox_id').havingRaw('count(*) > 1');
        const once = Number((await db('events').where({ step, outcome: 'done' }).countDistinct({ n: 'mailbox_id' }).first())!.n);
        if (twice.length || once !== MAILBOXES) problems.push(`${step}: done for ${once} mailboxes, more than once for ${twice.length}`);
      }
      const attach = Number((await db('events').where({ step: 'attach-domain', outcome: 'done' }).whereNull('mailbox_id').count({ n: '*' }).first())!.n);
      if (attach !== 1) problems.push(`attach-domain ran ${attach} times`);
    } finally {
      await db.destroy();
    }
    // Renamed once on the old host (userNNNNN01@), created once on the new one (userNNNNN@).
    for (const [label, file, expected] of [['old', land.old.dbPath, /^user\d{5}01@/], ['new', land.new.dbPath, /^user\d{5}@/]] as const) {
      const pa = knexFactory({ client: 'sqlite3', connection: { filename: file }, useNullAsDefault: true });
      try {
        const names: string[] = await pa('mailbox').pluck('username');
        const ok = names.length === MAILBOXES && new Set(names).size === MAILBOXES && names.every((n) => expected.test(n));
        if (!ok) problems.push(`${label} host accounts: ${names.length}, e.g. ${names.slice(0, 3).join(', ')}`);
      } finally {
        await pa.destroy();
      }
    }
    let wrongBoxes = 0;
    for (let i = 0; i < MAILBOXES; i++) if (countFiles(path.join(land.new.mailRoot, DOMAIN, local(i))) !== spec.messages) wrongBoxes++;
    if (wrongBoxes) problems.push(`${wrongBoxes} destination mailboxes do not hold exactly ${spec.messages} messages`);

    const cpuMs = stats.reduce((n, s) => n + s.cpuMs, 0);
    return {
      name: spec.name, seconds, perMin: MAILBOXES / (seconds / 60), cpuMsPerMailbox: cpuMs / MAILBOXES,
      queriesPerMailbox: stats.reduce((n, s) => n + s.queries, 0) / MAILBOXES, peakRssMb: stats.map((s) => Math.round(s.maxRssKb / 1024)),
      pageP95Ms: percentile(latencies, 95), pageRequests: latencies.length, exact: problems.length === 0, problems,
    };
  } finally {
    panel?.child.kill('SIGTERM');
    await panel?.catch(() => undefined);
    await land.stop();
  }
}

const pg = RUNS.some((r) => r.db === 'pg') ? await startPostgres() : undefined;
const results: RunResult[] = [];
try {
  for (const spec of RUNS) {
    console.error(`fleet: ${spec.name} (${MAILBOXES} mailboxes × ${spec.messages} messages, ${spec.workers} worker(s) × concurrency ${CONCURRENCY})…`);
    const r = await run(spec, pg);
    results.push(r);
    console.error(`fleet: ${r.name}: ${r.seconds.toFixed(1)} s, ${r.perMin.toFixed(1)} mailboxes/min${r.problems.length ? `; PROBLEMS: ${r.problems.join('; ')}` : ''}`);
  }
} finally {
  await pg?.stop();
}

console.log('\nrun         seconds  mailboxes/min  worker CPU ms/mailbox  queries/mailbox  peak RSS MB (per worker)  page p95 ms (n)  exact');
for (const r of results) {
  console.log(`${r.name.padEnd(11)} ${r.seconds.toFixed(1).padStart(7)}  ${r.perMin.toFixed(1).padStart(13)}  ${r.cpuMsPerMailbox.toFixed(1).padStart(21)}  ${r.queriesPerMailbox.toFixed(1).padStart(15)}  ${r.peakRssMb.join(', ').padStart(24)}  ${`${r.pageP95Ms.toFixed(1)} (${r.pageRequests})`.padStart(15)}  ${r.exact}`);
}
const by = (name: string) => results.find((r) => r.name === name);
const round = (v: number | undefined) => (v === undefined ? null : Math.round(v * 10) / 10);
console.log(JSON.stringify({
  mailboxes: MAILBOXES,
  sqlite_1w_per_min: round(by('sqlite_1w')?.perMin), pg_1w_per_min: round(by('pg_1w')?.perMin), pg_3w_per_min: round(by('pg_3w')?.perMin),
  noncopy_cpu_ms_per_mailbox: round(by('noncopy')?.cpuMsPerMailbox), queries_per_mailbox: round(by('noncopy')?.queriesPerMailbox),
  project_page_p95_ms: round(Math.max(0, ...results.filter((r) => r.name !== 'noncopy').map((r) => r.pageP95Ms))),
  exact: results.every((r) => r.exact),
}));
process.exit(results.every((r) => r.exact) ? 0 : 1);
