import assert from 'node:assert/strict';
import { test } from 'node:test';
import knexFactory from 'knex';
import { verify } from '@node-rs/argon2';
import { cutover, tempDataDir } from '../support/cli.ts';

test('admin create reads the password from stdin and stores only an argon2 hash', { timeout: 60_000 }, async () => {
  const dataDir = tempDataDir();
  const created = await cutover(['admin', 'create', 'alice'], { dataDir, input: 'a long enough secret\n' });
  assert.equal(created.code, 0, created.stderr);
  assert.match(created.stdout, /admin alice created/);
  const short = await cutover(['admin', 'create', 'bob'], { dataDir, input: 'short\n' });
  assert.notEqual(short.code, 0);
  assert.match(short.stderr, /at least 10 characters/);
  const again = await cutover(['admin', 'create', 'alice'], { dataDir, input: 'another long secret\n' });
  assert.match(again.stderr, /already exists/);
  const db = knexFactory({ client: 'sqlite3', connection: { filename: `${dataDir}/cutover.sqlite` }, useNullAsDefault: true });
  try {
    const rows = await db('users').select('name', 'password_hash');
    assert.equal(rows.length, 1);
    assert.match(rows[0].password_hash, /^\$argon2id\$/);
    assert.ok(await verify(rows[0].password_hash, 'a long enough secret'));
  } finally {
    await db.destroy();
  }
});
