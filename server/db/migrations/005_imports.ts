import type { Knex } from 'knex';

/**
 * An import's dry run, kept between the check and the admin's go-ahead: one pending import per
 * project (a new upload replaces it), one row per line of the file with its problems. Passwords
 * are sealed like the mailboxes' own; nothing of the file lives in the session.
 */
export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('imports', (t) => {
    t.increments('id');
    t.integer('project_id').notNullable().unique().references('projects.id');
    t.string('file_name').notNullable();
    t.integer('total').notNullable();
    t.integer('bad').notNullable();
    t.string('created_by').notNullable();
    t.string('created_at').notNullable();
  });
  await db.schema.createTable('import_rows', (t) => {
    t.integer('import_id').notNullable().references('imports.id');
    t.integer('line').notNullable();
    t.string('address', 320).notNullable();
    t.text('source_password_sealed');
    t.text('dest_password_sealed');
    t.boolean('bad').notNullable();
    /** JSON: { errors: [{code, params}], warnings: [{code, params}] }. */
    t.text('problems').notNullable();
    t.primary(['import_id', 'line']);
    t.index(['import_id', 'bad']);
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTableIfExists('import_rows');
  await db.schema.dropTableIfExists('imports');
}
