import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

test('the whole tree type-checks under strict TypeScript', { timeout: 120_000 }, () => {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const result = spawnSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '--noEmit', '-p', root], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stdout + result.stderr);
});
