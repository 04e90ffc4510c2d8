import type { Knex } from 'knex';
import { createCheckpointTable } from '../../mail/ledger-schema.ts';

export async function up(db: Knex): Promise<void> {
  await createCheckpointTable(db, 'mailboxes.id');
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTableIfExists('checkpoints');
}
