import type { Knex } from 'knex';

/**
 * What a delta pass needs beyond the ledger: the flags each copy was written with (a copy whose
 * flags are still those was not changed on the destination, so a source deletion may remove it),
 * and each folder's HIGHESTMODSEQ at the last pass (CONDSTORE: only what changed since is asked
 * for). Added in place, so state files of `cutover copy` written before them keep working.
 */
export async function addDeltaColumns(db: Knex): Promise<void> {
  if (!(await db.schema.hasColumn('ledger', 'flags'))) {
    // NULL: not written by this migration with known flags (matched on the destination, or copied before this column existed).
    await db.schema.alterTable('ledger', (t) => { t.text('flags'); });
  }
  if (!(await db.schema.hasColumn('checkpoints', 'highest_modseq'))) {
    await db.schema.alterTable('checkpoints', (t) => { t.string('highest_modseq'); });
  }
}

export async function dropDeltaColumns(db: Knex): Promise<void> {
  if (await db.schema.hasColumn('ledger', 'flags')) await db.schema.alterTable('ledger', (t) => { t.dropColumn('flags'); });
  if (await db.schema.hasColumn('checkpoints', 'highest_modseq')) await db.schema.alterTable('checkpoints', (t) => { t.dropColumn('highest_modseq'); });
}
