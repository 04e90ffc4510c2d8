import type { Knex } from 'knex';

/**
 * The Domains page: domains watched without a project (added by hand, or listed by a platform),
 * each with the platform its DNS should point to, and the re-check job's last result for every
 * known domain (project or not), so the page and the dashboard never wait on a lookup.
 */
export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('watched_domains', (t) => {
    t.increments('id');
    t.string('name', 253).notNullable().unique();
    t.integer('platform_id').notNullable().references('id').inTable('platforms').onDelete('CASCADE');
    t.string('source', 16).notNullable();
    t.text('nameservers').notNullable().defaultTo('');
    t.string('created_at', 32).notNullable();
  });
  await db.schema.createTable('domain_checks', (t) => {
    t.string('name', 253).primary();
    t.integer('platform_id').nullable();
    t.string('status', 8).notNullable();
    t.text('dots').notNullable();
    t.string('checked_at', 32).notNullable();
    t.integer('elapsed_ms').notNullable().defaultTo(0);
    t.text('error').nullable();
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTableIfExists('domain_checks');
  await db.schema.dropTableIfExists('watched_domains');
}
