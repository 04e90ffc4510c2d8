import type { Knex } from 'knex';

/**
 * Sync points: every copy pass (the initial copy, a verify top-up, each delta pass) already
 * stamps its number on the ledger rows it writes; this table adds when each pass ran, so an admin
 * can pick one and delete on the destination what was copied since. The ledger index serves the
 * per-pass counts and the project page's per-mailbox sums from the index alone (a few µs more per
 * ledger row written, measured: about 2 µs, against milliseconds per message copied).
 *
 * Also the admin's folder plan override (source folder → excluded / destination name), kept apart
 * from the computed plan so that the engine applies it on top of whatever it computes.
 */
export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('sync_points', (t) => {
    t.integer('mailbox_id').notNullable().references('mailboxes.id');
    t.integer('pass').notNullable();
    t.string('step').notNullable();
    t.string('started_at').notNullable();
    t.string('finished_at');
    t.string('rolled_back_at');
    t.primary(['mailbox_id', 'pass']);
  });
  await db.schema.alterTable('ledger', (t) => { t.index(['mailbox_id', 'pass', 'size'], 'ledger_mailbox_pass_size'); });
  await db.schema.alterTable('mailboxes', (t) => { t.text('folder_plan_override'); });
}

export async function down(db: Knex): Promise<void> {
  // knex drops a SQLite column by copying the table, which the ledger's foreign keys forbid; SQLite ≥ 3.35 drops it in place.
  if (String(db.client.config.client).startsWith('sqlite')) await db.raw('ALTER TABLE mailboxes DROP COLUMN folder_plan_override');
  else await db.schema.alterTable('mailboxes', (t) => { t.dropColumn('folder_plan_override'); });
  await db.schema.alterTable('ledger', (t) => { t.dropIndex(['mailbox_id', 'pass', 'size'], 'ledger_mailbox_pass_size'); });
  await db.schema.dropTableIfExists('sync_points');
}
