import type { Knex } from 'knex';

/**
 * Daily use:
 * - each admin's own time zone (the language column exists since 003);
 * - a bandwidth cap per source platform (every pass reading from its host shares it);
 * - when a project ended and when its migration data was purged (data retention);
 * - throughput per mailbox and minute, and mailboxes per state and minute, for the charts;
 * - the letters to the end users: the project's edited templates, one row per letter sent
 *   (unique per mailbox and kind, so each goes once), and the one-time links of the welcome letter.
 */
export async function up(db: Knex): Promise<void> {
  await db.schema.alterTable('users', (t) => { t.string('time_zone', 64); });
  // The Domains page pages the known domains in SQL: the newest project of each name is found by this index.
  await db.schema.alterTable('domains', (t) => { t.index(['name', 'project_id'], 'domains_name_project'); });
  await db.schema.alterTable('platforms', (t) => { t.bigInteger('max_bytes_per_second'); });
  await db.schema.alterTable('projects', (t) => { t.string('ended_at', 32); t.string('purged_at', 32); });
  // What the ledger counted, kept when a purge deletes its per-message rows (JSON tally).
  await db.schema.alterTable('mailboxes', (t) => { t.text('purged_tally'); });
  await db.schema.createTable('progress_samples', (t) => {
    t.integer('mailbox_id').notNullable();
    t.integer('project_id').notNullable();
    t.bigInteger('minute').notNullable();
    t.integer('messages').notNullable().defaultTo(0);
    t.bigInteger('bytes').notNullable().defaultTo(0);
    t.primary(['mailbox_id', 'minute']);
    t.index(['project_id', 'minute']);
  });
  await db.schema.createTable('state_samples', (t) => {
    t.integer('project_id').notNullable();
    t.bigInteger('minute').notNullable();
    t.string('state', 16).notNullable();
    t.integer('n').notNullable();
    t.primary(['project_id', 'minute', 'state']);
  });
  await db.schema.createTable('letter_templates', (t) => {
    t.integer('project_id').notNullable();
    t.string('kind', 8).notNullable();
    t.string('lang', 2).notNullable();
    t.string('subject', 200).notNullable();
    t.text('body').notNullable();
    t.string('updated_by').notNullable();
    t.string('updated_at', 32).notNullable();
    t.primary(['project_id', 'kind', 'lang']);
  });
  await db.schema.createTable('letters', (t) => {
    t.increments('id');
    t.integer('project_id').notNullable();
    t.integer('mailbox_id').notNullable();
    t.string('kind', 8).notNullable();
    t.string('to_address', 320).notNullable();
    t.string('status', 12).notNullable();
    t.integer('attempts').notNullable().defaultTo(0);
    t.bigInteger('next_attempt_at').notNullable().defaultTo(0);
    t.text('last_error');
    t.string('created_at', 32).notNullable();
    t.string('sent_at', 32);
    t.unique(['mailbox_id', 'kind']);
    t.index(['status', 'next_attempt_at']);
    t.index(['project_id', 'kind']);
  });
  await db.schema.createTable('one_time_links', (t) => {
    t.string('token_hash', 64).primary();
    t.integer('mailbox_id').notNullable();
    t.string('purpose', 16).notNullable();
    t.bigInteger('expires_at').notNullable();
    t.string('used_at', 32);
    t.index(['mailbox_id']);
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.alterTable('domains', (t) => { t.dropIndex(['name', 'project_id'], 'domains_name_project'); });
  for (const table of ['one_time_links', 'letters', 'letter_templates', 'state_samples', 'progress_samples']) await db.schema.dropTableIfExists(table);
  for (const [table, columns] of [['mailboxes', ['purged_tally']], ['projects', ['ended_at', 'purged_at']], ['platforms', ['max_bytes_per_second']], ['users', ['time_zone']]] as const) {
    for (const column of columns) {
      if (String(db.client.config.client).startsWith('sqlite')) await db.raw(`ALTER TABLE ${table} DROP COLUMN ${column}`);
      else await db.schema.alterTable(table, (t) => { t.dropColumn(column); });
    }
  }
}
