import type { Knex } from 'knex';

/** A ledger or skip-list row's key: one source message of one mailbox migration. */
export const LEDGER_KEY = ['mailbox_id', 'source_folder', 'uidvalidity', 'uid'];

/**
 * The ledger and skip list tables: in the main database (rows belong to a mailbox migration)
 * and in the state file of a one-shot `cutover copy` (one implicit mailbox, no foreign key).
 */
export async function createLedgerTables(db: Knex, mailboxReference?: string): Promise<void> {
  const mailboxColumn = (t: Knex.CreateTableBuilder) => {
    const column = t.integer('mailbox_id').notNullable();
    if (mailboxReference) column.references(mailboxReference);
  };
  await db.schema.createTable('ledger', (t) => {
    mailboxColumn(t);
    t.string('source_folder').notNullable();
    t.bigInteger('uidvalidity').notNullable();
    t.bigInteger('uid').notNullable();
    t.string('dest_folder').notNullable();
    t.bigInteger('dest_uid');
    t.integer('size').notNullable();
    t.string('fingerprint').notNullable();
    t.integer('pass').notNullable();
    t.primary(LEDGER_KEY);
  });
  await db.schema.createTable('skips', (t) => {
    mailboxColumn(t);
    t.string('source_folder').notNullable();
    t.bigInteger('uidvalidity').notNullable();
    t.bigInteger('uid').notNullable();
    t.integer('size').notNullable();
    t.string('kind').notNullable();
    t.text('reason').notNullable();
    t.primary(LEDGER_KEY);
  });
}

/** Where each source folder's last complete pass stood: a later pass fetches only UIDs from here on. */
export async function createCheckpointTable(db: Knex, mailboxReference?: string): Promise<void> {
  await db.schema.createTable('checkpoints', (t) => {
    const column = t.integer('mailbox_id').notNullable();
    if (mailboxReference) column.references(mailboxReference);
    t.string('source_folder').notNullable();
    t.bigInteger('uidvalidity').notNullable();
    t.bigInteger('uid_next').notNullable();
    t.primary(['mailbox_id', 'source_folder']);
  });
}
