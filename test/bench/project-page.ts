// Part of `npm run bench`: the panel's project page with 10,000 mailboxes on SQLite (PostgreSQL with
// CUTOVER_TEST_DATABASE=postgres), every mailbox
// with a copy under way (preflight totals, a sync point, 40 ledger rows: 400,000 rows in all).
// Times real HTTP requests to the mounted panel, as a browser makes them: the first page, a filtered
// deep page, the last page, and the JSON endpoint the live refresh polls. Prints medians and p95.
import { performance } from 'node:perf_hooks';
import { insertProject } from '../db/fixtures.ts';
import { testDatabase } from '../support/database.ts';
import { Client, startPanel } from '../web/client.ts';

const MAILBOXES = Number(process.env.BENCH_PAGE_MAILBOXES ?? 10_000);
const LEDGER_PER_MAILBOX = 40;
const REQUESTS = 30;

const panel = await startPanel();
try {
  const { projectId, domainId } = await insertProject(panel.app.db);
  const now = new Date().toISOString();
  const preflight = JSON.stringify({ totalMessages: 80, totalBytes: 4_000_000, folders: [{ path: 'INBOX', messages: 60, bytes: 3_000_000 }, { path: 'Archive', messages: 20, bytes: 1_000_000 }] });
  const seeded = performance.now();
  const mailboxes = Array.from({ length: MAILBOXES }, (_, i) => ({
    project_id: projectId, domain_id: domainId, address: `user${String(i).padStart(5, '0')}@example.test`,
    state: i % 100 === 0 ? 'failed' : i % 10 === 0 ? 'paused' : 'queued', step: 'copy-mail', next_run_at: 0, created_at: now, updated_at: now,
    error_message: i % 100 === 0 ? 'IMAP APPEND failed on new.example.net: quota exceeded' : null, preflight,
  }));
  for (let i = 0; i < mailboxes.length; i += 500) await panel.app.db('mailboxes').insert(mailboxes.slice(i, i + 500));
  const ids: number[] = (await panel.app.db('mailboxes').where({ project_id: projectId }).select('id')).map((r: { id: number }) => r.id);
  const started = new Date(Date.now() - 10 * 60_000).toISOString();
  await panel.app.db.transaction(async (trx) => {
    for (let i = 0; i < ids.length; i += 500) await trx('sync_points').insert(ids.slice(i, i + 500).map((id) => ({ mailbox_id: id, pass: 1, step: 'copy-mail', started_at: started })));
    const ledger = ids.flatMap((id) => Array.from({ length: LEDGER_PER_MAILBOX }, (_, uid) => ({
      mailbox_id: id, source_folder: 'INBOX', uidvalidity: 1, uid: uid + 1, dest_folder: 'INBOX', dest_uid: uid + 1, size: 50_000, fingerprint: 'f', pass: 1,
    })));
    for (let i = 0; i < ledger.length; i += 100) await trx('ledger').insert(ledger.slice(i, i + 100));
  });
  const seedSeconds = (performance.now() - seeded) / 1000;

  const client = new Client(panel.url);
  if ((await client.login()).status !== 303) throw new Error('bench: login to the panel failed');
  const lastPage = Math.ceil(MAILBOXES / 50);
  const targets = [
    { label: 'project page, page 1', path: `/projects/${projectId}` },
    { label: 'project page, paused, page 10', path: `/projects/${projectId}?state=paused&page=10` },
    { label: `project page, page ${lastPage}`, path: `/projects/${projectId}?page=${lastPage}` },
    { label: 'live-progress JSON, page 1', path: `/api/projects/${projectId}/progress?page=1` },
  ];
  const results = [];
  for (const target of targets) {
    const times: number[] = [];
    for (let i = 0; i < REQUESTS; i++) {
      const t0 = performance.now();
      const res = await client.request(target.path);
      times.push(performance.now() - t0);
      if (res.status !== 200) throw new Error(`bench: ${target.path} answered ${res.status}`);
    }
    times.sort((a, b) => a - b);
    results.push({ ...target, median: times[Math.floor(times.length / 2)]!, p95: times[Math.floor(times.length * 0.95)]! });
  }
  console.log(`project page bench: ${MAILBOXES.toLocaleString('en')} mailboxes, ${(MAILBOXES * LEDGER_PER_MAILBOX).toLocaleString('en')} ledger rows on ${testDatabase === 'postgres' ? 'PostgreSQL' : 'SQLite'} (seeded in ${seedSeconds.toFixed(1)} s); ${REQUESTS} requests each`);
  for (const r of results) console.log(`  ${r.label.padEnd(34)} median ${r.median.toFixed(1).padStart(6)} ms   p95 ${r.p95.toFixed(1).padStart(6)} ms`);
} finally {
  await panel.close();
}
