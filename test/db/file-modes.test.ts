import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { openContext } from '../../server/context.ts';
import { insertUser } from '../../server/db/repos/users.ts';

const mode = (file: string) => (statSync(file).mode & 0o777).toString(8);
const DB_FILES = ['cutover.sqlite', 'cutover.sqlite-wal', 'cutover.sqlite-shm'];

test('a fresh data directory is 0700 and the database with its WAL files 0600, whatever the umask', async () => {
  const dataDir = path.join(mkdtempSync(path.join(os.tmpdir(), 'cutover-modes-')), 'data');
  const before = process.umask(0o022);
  try {
    const app = await openContext({ CUTOVER_DATA_DIR: dataDir, CUTOVER_LOG_LEVEL: 'silent' });
    try {
      await insertUser(app.db, 'root', '$argon2id$not-a-real-hash');
      assert.equal(mode(dataDir), '700');
      for (const file of [...DB_FILES, 'secret.key']) assert.equal(mode(path.join(dataDir, file)), '600', file);
    } finally {
      await app.close();
    }
  } finally {
    process.umask(before);
  }
});

test('a data directory left 0755 with a 0644 database and WAL is fixed at start', async () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cutover-modes-'));
  const first = await openContext({ CUTOVER_DATA_DIR: dataDir, CUTOVER_LOG_LEVEL: 'silent' });
  await insertUser(first.db, 'root', '$argon2id$not-a-real-hash');
  await first.close();
  chmodSync(dataDir, 0o755);
  for (const file of DB_FILES) {
    const full = path.join(dataDir, file);
    try { statSync(full); } catch { writeFileSync(full, ''); }
    chmodSync(full, 0o644);
  }
  const again = await openContext({ CUTOVER_DATA_DIR: dataDir, CUTOVER_LOG_LEVEL: 'silent' });
  try {
    assert.equal(mode(dataDir), '700');
    for (const file of DB_FILES) assert.equal(mode(path.join(dataDir, file)), '600', file);
    assert.equal((await again.db('users').first()).name, 'root', 'the data is still there');
  } finally {
    await again.close();
  }
});

test('a nested data directory is created 0700 at every level it creates', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'cutover-modes-'));
  const dataDir = path.join(root, 'a', 'b');
  mkdirSync(path.join(root, 'a'), { mode: 0o755 });
  const app = await openContext({ CUTOVER_DATA_DIR: dataDir, CUTOVER_LOG_LEVEL: 'silent' });
  await app.close();
  assert.equal(mode(dataDir), '700');
  assert.equal(mode(path.join(root, 'a')), '755', 'a parent the operator made is left alone');
});
