import type { Knex } from 'knex';

/**
 * Who did what and when, for actions that belong to no project (platforms, admins, tokens), and the
 * API tokens scripts use instead of a session (only a SHA-256 of each token is kept).
 */
export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('audit', (t) => {
    t.increments('id');
    t.string('at').notNullable().index();
    t.string('actor').notNullable();
    t.string('action').notNullable();
    t.string('target');
    t.text('detail');
  });
  await db.schema.createTable('api_tokens', (t) => {
    t.increments('id');
    t.integer('user_id').notNullable().references('users.id');
    t.string('name').notNullable();
    t.string('token_hash').notNullable().unique();
    t.string('created_at').notNullable();
    t.string('last_used_at');
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTableIfExists('api_tokens');
  await db.schema.dropTableIfExists('audit');
}
