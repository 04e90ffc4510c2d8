import type { Knex } from 'knex';
import { addDeltaColumns, dropDeltaColumns } from '../../mail/delta/schema.ts';

/** Delta passes mirror the source: the flags each copy was written with, and each folder's HIGHESTMODSEQ. */
export async function up(db: Knex): Promise<void> {
  await addDeltaColumns(db);
}

export async function down(db: Knex): Promise<void> {
  await dropDeltaColumns(db);
}
