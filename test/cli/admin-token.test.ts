import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import os from 'node:os';
import { test } from 'node:test';
import express from 'express';
import { openContext } from '../../server/context.ts';
import { createPanel } from '../../server/panel.ts';
import { hashToken } from '../../server/services/tokens.ts';
import { cutover, tempDataDir } from '../support/cli.ts';

test('admin token create/list/revoke: shown once on stdout, kept as a hash, usable on /api until revoked, audited', { timeout: 120_000 }, async () => {
  const dataDir = tempDataDir();
  assert.equal((await cutover(['admin', 'create', 'root'], { dataDir, input: 'a long enough secret\n' })).code, 0);

  const noUser = await cutover(['admin', 'token', 'create', 'ci'], { dataDir });
  assert.equal(noUser.code, 2);
  assert.match(noUser.stderr, /--user ADMIN/);
  const unknownUser = await cutover(['admin', 'token', 'create', 'ci', '--user', 'nobody'], { dataDir });
  assert.match(unknownUser.stderr, /no admin named "nobody"/);
  assert.equal((await cutover(['admin', 'token'], { dataDir })).code, 2, 'usage');

  const created = await cutover(['admin', 'token', 'create', 'ci', '--user', 'root'], { dataDir });
  assert.equal(created.code, 0, created.stderr);
  const token = created.stdout.trim();
  assert.match(token, /^cutover_[A-Za-z0-9_-]{43}$/, 'stdout is the token alone, for TOKEN=$(…)');
  assert.match(created.stderr, /shown only this once/);

  const listed = await cutover(['admin', 'token', 'list'], { dataDir });
  assert.equal(listed.code, 0);
  assert.match(listed.stdout, /^1\tci\troot\tcreated \S+\tlast used never$/m);
  assert.ok(!listed.stdout.includes(token));

  const app = await openContext({ CUTOVER_DATA_DIR: dataDir, CUTOVER_LOG_LEVEL: 'silent' });
  const host = express();
  host.use(createPanel(app));
  const server: Server = await new Promise((resolve) => { const s = host.listen(0, '127.0.0.1', () => resolve(s)); });
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const call = () => fetch(`${url}/api/projects`, { headers: { authorization: `Bearer ${token}` } });
  try {
    const row = await app.db('api_tokens').where({ name: 'ci' }).first();
    assert.equal(row.token_hash, hashToken(token));
    for (const file of ['cutover.sqlite', 'cutover.sqlite-wal']) {
      try { assert.ok(!readFileSync(`${dataDir}/${file}`).includes(token), `${file} holds no clear token`); } catch (err) { if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; }
    }
    assert.equal((await call()).status, 200);
    assert.match((await cutover(['admin', 'token', 'list'], { dataDir })).stdout, /last used 20\d\d-/);

    const revoked = await cutover(['admin', 'token', 'revoke', '1'], { dataDir });
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.match(revoked.stdout, /token #1 "ci" of root revoked/);
    const refused = await call();
    assert.equal(refused.status, 401);
    assert.equal((await refused.json()).error.code, 'TOKEN_INVALID');
    const again = await cutover(['admin', 'token', 'revoke', '1'], { dataDir });
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /no API token #1/);
    assert.equal((await cutover(['admin', 'token', 'list'], { dataDir })).stdout, '');

    const audit = await app.db('audit').orderBy('id').select('actor', 'action', 'target');
    const me = `cli:${os.userInfo().username}`;
    assert.deepEqual(audit, [
      { actor: me, action: 'admin.create', target: 'admin root' },
      { actor: me, action: 'token.create', target: 'token #1 ci' },
      { actor: me, action: 'token.revoke', target: 'token #1 ci' },
    ]);
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
    await app.close();
  }
});
