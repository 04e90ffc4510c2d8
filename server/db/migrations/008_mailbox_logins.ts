import type { Knex } from 'knex';

/**
 * Per-mailbox logins (a CSV's `source_login`/`dest_login`): the user name a server knows an
 * account by when it is not the address (Microsoft 365 style batches, cPanel hosts). Sealed like
 * the passwords next to them; null means "log in with the address".
 */
export async function up(db: Knex): Promise<void> {
  for (const table of ['mailboxes', 'import_rows']) {
    await db.schema.alterTable(table, (t) => {
      t.text('source_login_sealed');
      t.text('dest_login_sealed');
    });
  }
}

export async function down(db: Knex): Promise<void> {
  for (const table of ['mailboxes', 'import_rows']) {
    await db.schema.alterTable(table, (t) => {
      t.dropColumn('source_login_sealed');
      t.dropColumn('dest_login_sealed');
    });
  }
}
