#!/usr/bin/env node
// Node 20 does not expand globs after --test: collect every *.test.ts here and hand them over.
import { spawnSync } from 'node:child_process';
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
  'db/ledger.test.ts', 'workflow/lease.test.ts', 'workflow/idle.test.ts', 'workflow/fleet.test.ts', 'workflow/host-cap.test.ts', 'mail/copy.test.ts',
  'services/projects.test.ts', 'services/rollback.test.ts',
  'web/api-projects.test.ts', 'web/api-platforms.test.ts', 'web/project-page.test.ts', 'web/mailbox-page.test.ts',
  'web/audit.test.ts', 'web/reports.test.ts', 'web/tokens.test.ts', 'web/workers.test.ts',
].map((f) => path.join(testDir, f));

function run(files, env = {}) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...files], { stdio: 'inherit', env: { ...process.env, ...env } });
  return result.status ?? 1;
}

const only = process.argv.slice(2);
if (only.length) process.exit(run(only));
const all = collect(testDir).sort();
const sqlite = run(all);
console.log('\n# again on PostgreSQL: the storage, workflow, lease and API tests');
const postgres = run(onBothDatabases.filter((f) => all.includes(f)), { CUTOVER_TEST_DATABASE: 'postgres' });
process.exit(sqlite || postgres);
