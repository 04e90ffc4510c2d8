import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { openContext } from '../../server/context.ts';
import { insertUser } from '../../server/db/repos/users.ts';
import { hashPassword } from '../../server/web/passwords.ts';
import { cutover } from '../support/cli.ts';
import { freshPostgresUrl } from '../support/database.ts';
import { rawMessage, seed } from '../support/mail.ts';
import { startMigration, type Migration } from '../support/mailbox-migration.ts';

// A real SQLite installation (one mailbox migrated to the end) moved to a real PostgreSQL.
const ALICE = { address: 'alice@example.test', password: 'alice-pw' };
let m: Migration;

before(async () => {
  m = await startMigration({ accounts: [ALICE] });
  await seed(m.land.old, ALICE.address, [1, 2, 3].map((i) => ({ folder: 'INBOX', raw: rawMessage({ subject: `m${i}` }) })));
  await insertUser(m.app.db, 'root', await hashPassword('correct horse battery'));
  await m.runUntil(ALICE.address, (row) => row.state === 'done');
});
after(async () => { await m?.close(); });

test('db copy --to moves every table, the ledger and the sealed secrets to PostgreSQL, counts checked', { timeout: 120_000 }, async () => {
  assert.equal(m.app.config.databaseUrl, undefined, 'the source is the SQLite file');
  const dataDir = m.app.config.dataDir;
  const url = await freshPostgresUrl();
  // The first status shows the generated password once; what follows is the steady state.
  await cutover(['status', 'test', '--json'], { dataDir });
  const before = JSON.parse((await cutover(['status', 'test', '--json'], { dataDir })).stdout);

  const copy = await cutover(['db', 'copy'], { dataDir, env: { CUTOVER_COPY_TO: url } });
  assert.equal(copy.code, 0, copy.stderr);
  const counts = new Map(copy.stdout.trim().split('\n').filter((l) => l.includes('\t')).map((l) => { const [t, s, d] = l.split('\t'); return [t!, [Number(s), Number(d)]]; }));
  for (const table of ['platforms', 'projects', 'domains', 'domain_steps', 'mailboxes', 'ledger', 'checkpoints', 'events', 'sync_points', 'users']) {
    const [s, d] = counts.get(table) ?? [];
    assert.ok(s !== undefined && s > 0, `${table} was copied (${s})`);
    assert.equal(d, s, table);
  }
  assert.match(copy.stdout, /counts checked/);

  // The same installation on PostgreSQL: same status, the platform secrets open with the same key.
  const onPg = await openContext({ CUTOVER_DATA_DIR: dataDir, CUTOVER_LOG_LEVEL: 'silent', DATABASE_URL: url });
  try {
    const platform = await onPg.db('platforms').where({ name: 'old' }).first();
    assert.equal(JSON.parse(onPg.box.open(platform.config_sealed)).imap.port, m.land.old.port);
    const ledgerSql = await m.app.db('ledger').orderBy(['mailbox_id', 'source_folder', 'uid']).select();
    const ledgerPg = await onPg.db('ledger').orderBy(['mailbox_id', 'source_folder', 'uid']).select();
    assert.equal(ledgerPg.length, ledgerSql.length);
    assert.deepEqual(ledgerPg.map((r) => [Number(r.uid), Number(r.dest_uid), r.fingerprint, r.dest_folder]), ledgerSql.map((r) => [Number(r.uid), Number(r.dest_uid), r.fingerprint, r.dest_folder]));
    // New rows get ids after the copied ones.
    const [next] = await onPg.db('events').insert({ project_id: 1, outcome: 'progress', message: 'after the copy', actor: 'test', at: new Date().toISOString() }).returning('id');
    assert.ok(Number((next as { id: number }).id) > Number(counts.get('events')![0]));
  } finally {
    await onPg.close();
  }
  const afterCopy = JSON.parse((await cutover(['status', 'test', '--json'], { dataDir, env: { DATABASE_URL: url } })).stdout);
  assert.deepEqual(afterCopy, before);

  const again = await cutover(['db', 'copy', '--to', url], { dataDir });
  assert.equal(again.code, 2, again.stdout);
  assert.match(again.stderr, /not empty/);
});
