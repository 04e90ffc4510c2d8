import type { Knex } from 'knex';
import { CutoverError } from '../errors.ts';
import { createGroupwareTables, dbGroupwareLedger, type GroupwareLedger } from './ledger.ts';

const STANDALONE_MAILBOX = 0;

/** The groupware ledger of a one-shot `cutover copy`: the same `--state` SQLite file as the mail ledger, or memory. */
export async function openGroupwareState(file?: string): Promise<{ ledger: GroupwareLedger; close(): Promise<void> }> {
  const { default: knexFactory } = await import('knex');
  const db: Knex = knexFactory({ client: 'sqlite3', connection: { filename: file ?? ':memory:' }, useNullAsDefault: true, pool: { min: 1, max: 1 } });
  try {
    if (!(await db.schema.hasTable('groupware_items'))) await createGroupwareTables(db);
  } catch (err) {
    await db.destroy();
    throw new CutoverError('INPUT_INVALID', { detail: `--state ${file}: not a usable state file (${(err as Error).message})` });
  }
  return { ledger: dbGroupwareLedger(db, STANDALONE_MAILBOX), close: () => db.destroy() };
}
