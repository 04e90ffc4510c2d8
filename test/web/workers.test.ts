import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { heartbeatWorker, markWorkerStopped } from '../../server/db/repos/workers.ts';
import { WORKER_LOST_AFTER_MS } from '../../server/web/routes/workers.ts';
import { insertMailbox, insertProject } from '../db/fixtures.ts';
import { cutover } from '../support/cli.ts';
import { Client, startPanel } from './client.ts';

let panel: Awaited<ReturnType<typeof startPanel>>;
before(async () => { panel = await startPanel(); });
after(async () => { await panel?.close(); });

async function fleet(): Promise<void> {
  const now = Date.now();
  const db = panel.app.db;
  await heartbeatWorker(db, { id: 'web-1:100:aaaaaa', host: 'web-1', pid: 100 }, now - 1_000);
  await heartbeatWorker(db, { id: 'web-2:200:bbbbbb', host: 'web-2', pid: 200 }, now - WORKER_LOST_AFTER_MS - 5_000);
  await heartbeatWorker(db, { id: 'web-3:300:cccccc', host: 'web-3', pid: 300 }, now - 60_000);
  await markWorkerStopped(db, 'web-3:300:cccccc', now - 60_000);
  const where = await insertProject(db);
  await insertMailbox(db, where, 'held@example.test', { locked_by: 'web-1:100:aaaaaa', locked_until: now + 60_000 });
  await insertMailbox(db, where, 'expired@example.test', { locked_by: 'web-2:200:bbbbbb', locked_until: now - 1 });
}

test('the workers page lists each worker with its host, mailboxes now and heartbeat; a stale one is lost', async () => {
  await fleet();
  const client = new Client(panel.url);
  assert.equal((await client.login()).status, 303);
  const home = await client.request('/');
  assert.match(home.text, /href="\/panel\/workers"/);
  const page = await client.request('/workers');
  assert.equal(page.status, 200);
  const rows = [...page.text.matchAll(/<tr class="worker (\w+)" data-status="\w+"><td>([^<]+)<\/td>[^]*?<\/tr>/g)].map((m) => ({ status: m[1], host: m[2], html: m[0] }));
  assert.deepEqual(rows.map((r) => [r.host, r.status]), [['web-1', 'running'], ['web-2', 'lost'], ['web-3', 'stopped']]);
  assert.match(rows[0]!.html, /held@example\.test/);
  assert.doesNotMatch(rows[1]!.html, /expired@example\.test/, 'an expired lease is not a current mailbox');
});

test('cutover workers says the same on the command line (--json for scripts)', async () => {
  const env: Record<string, string> = panel.app.config.databaseUrl ? { DATABASE_URL: panel.app.config.databaseUrl } : {};
  const r = await cutover(['workers', '--json'], { dataDir: panel.app.config.dataDir, env });
  assert.equal(r.code, 0, r.stderr);
  const json = JSON.parse(r.stdout);
  const byHost = Object.fromEntries(json.workers.map((w: { host: string; status: string; mailboxes: string[] }) => [w.host, [w.status, w.mailboxes]]));
  assert.deepEqual(byHost, { 'web-1': ['running', ['held@example.test']], 'web-2': ['lost', []], 'web-3': ['stopped', []] });
  const text = await cutover(['workers'], { dataDir: panel.app.config.dataDir, env });
  assert.match(text.stdout, /^web-2\tLOST\theartbeat /m);
});
