import type { Knex } from 'knex';

/** The panel's own tables: admin accounts (argon2 hashes) and their sessions (connect-session-knex's layout). */
export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('users', (t) => {
    t.increments('id');
    t.string('name').notNullable().unique();
    t.text('password_hash').notNullable();
    t.string('language');
    t.string('created_at').notNullable();
  });
  await db.schema.createTable('sessions', (t) => {
    t.string('sid').primary();
    t.text('sess').notNullable();
    t.timestamp('expired').notNullable().index();
  });
  // The project page lists, filters and counts one project's mailboxes by state.
  await db.schema.alterTable('mailboxes', (t) => { t.index(['project_id', 'state', 'address']); });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.alterTable('mailboxes', (t) => { t.dropIndex(['project_id', 'state', 'address']); });
  await db.schema.dropTableIfExists('sessions');
  await db.schema.dropTableIfExists('users');
}
