import type { Knex } from 'knex';
import { CutoverError } from '../errors.ts';
import { dbLedger, type LedgerStore } from './ledger.ts';
import { createCheckpointTable, createLedgerTables } from './ledger-schema.ts';
import { addDeltaColumns } from './delta/schema.ts';

const STANDALONE_MAILBOX = 0;

/** The ledger of a one-shot `cutover copy`: a SQLite file (`--state`), or memory when none is given. */
export async function openStateLedger(file?: string): Promise<{ ledger: LedgerStore; close(): Promise<void> }> {
  // Loaded here rather than at the top: a one-shot copy starts its logins while knex loads.
  const { default: knexFactory } = await import('knex');
  const db: Knex = knexFactory({
    client: 'sqlite3', connection: { filename: file ?? ':memory:' }, useNullAsDefault: true,
    pool: {
      min: 1, max: 1,
      // WAL without an fsync per commit: a resync commits a few times per folder, and ledger rows
      // lost to a power cut are recovered by fingerprint on the next run anyway.
      afterCreate(conn: { exec(sql: string, cb: (err: Error | null) => void): void }, done: (err: Error | null, conn: unknown) => void) {
        conn.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;', (err) => done(err, conn));
      },
    },
  });
  try {
    if (!(await db.schema.hasTable('ledger'))) await createLedgerTables(db);
    if (!(await db.schema.hasTable('checkpoints'))) await createCheckpointTable(db);
    await addDeltaColumns(db);
  } catch (err) {
    await db.destroy();
    throw new CutoverError('INPUT_INVALID', { detail: `--state ${file}: not a usable state file (${(err as Error).message})` });
  }
  return { ledger: dbLedger(db, STANDALONE_MAILBOX), close: () => db.destroy() };
}
