#!/usr/bin/env node
// Node 20 does not expand globs after --test: collect every *.test.ts here and hand them over.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const testDir = fileURLToPath(new URL('.', import.meta.url));

function collect(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'support' ? [] : collect(full);
    return entry.name.endsWith('.test.ts') ? [full] : [];
  });
}

// The storage, workflow, lease and API tests: the full run repeats them on a private PostgreSQL
// cluster (CUTOVER_TEST_DATABASE=postgres; test/support/database.ts). Set that variable yourself
// to run chosen files on PostgreSQL.
const onBothDatabases = [
  'db/ledger.test.ts', 'workflow/lease.test.ts', 'workflow/outcome.test.ts', 'workflow/idle.test.ts', 'workflow/fleet.test.ts', 'workflow/host-cap.test.ts', 'mail/copy.test.ts',
  'services/projects.test.ts', 'services/rollback.test.ts',
  'web/api-projects.test.ts', 'web/api-platforms.test.ts', 'web/project-page.test.ts', 'web/mailbox-page.test.ts',
  'web/audit.test.ts', 'web/reports.test.ts', 'web/tokens.test.ts', 'web/workers.test.ts',
].map((f) => path.join(testDir, f));

const totals = { pass: 0, fail: 0 };

// Output passes through as it comes; each run's closing counts are added up for one final line.
function run(files, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...files], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
    let tail = '';
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      const lines = (tail + chunk.toString('utf8')).split('\n');
      tail = lines.pop() ?? '';
      for (const line of lines) {
        const m = /^# (pass|fail) (\d+)$/.exec(line);
        if (m) totals[m[1]] += Number(m[2]);
      }
    });
    child.on('close', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

const only = process.argv.slice(2);
if (only.length) process.exit(await run(only));
const all = collect(testDir).sort();
const sqlite = await run(all);
console.log('\n# again on PostgreSQL: the storage, workflow, lease and API tests');
const postgres = await run(onBothDatabases.filter((f) => all.includes(f)), { CUTOVER_TEST_DATABASE: 'postgres' });
console.log(`\nall runs: ${totals.pass} passed, ${totals.fail} failed`);
process.exit(sqlite || postgres);
