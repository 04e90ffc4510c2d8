import type { Knex } from 'knex';
import { createLedgerTables } from '../../mail/ledger-schema.ts';

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('platforms', (t) => {
    t.increments('id');
    t.string('name').notNullable().unique();
    t.string('plugin').notNullable();
    t.text('config_sealed').notNullable();
    t.string('created_at').notNullable();
  });
  await db.schema.createTable('projects', (t) => {
    t.increments('id');
    t.string('name').notNullable().unique();
    t.integer('source_platform_id').notNullable().references('platforms.id');
    t.integer('dest_platform_id').notNullable().references('platforms.id');
    t.text('options').notNullable();
    t.string('state').notNullable();
    t.string('created_at').notNullable();
  });
  await db.schema.createTable('domains', (t) => {
    t.increments('id');
    t.integer('project_id').notNullable().references('projects.id');
    t.string('name').notNullable();
    t.unique(['project_id', 'name']);
  });
  // Domain-level steps (attach-domain, dns-cutover) run once per domain; mailboxes wait on these rows.
  await db.schema.createTable('domain_steps', (t) => {
    t.integer('domain_id').notNullable().references('domains.id');
    t.string('step').notNullable();
    t.string('status').notNullable();
    t.text('detail');
    t.string('confirmed_by');
    t.string('completed_at');
    t.primary(['domain_id', 'step']);
  });
  await db.schema.createTable('mailboxes', (t) => {
    t.increments('id');
    t.integer('project_id').notNullable().references('projects.id');
    t.integer('domain_id').notNullable().references('domains.id');
    t.string('address').notNullable();
    t.string('temp_address');
    t.string('state').notNullable();
    t.string('step').notNullable();
    t.integer('attempts').notNullable().defaultTo(0);
    t.bigInteger('next_run_at').notNullable().defaultTo(0);
    t.string('error_code');
    t.text('error_message');
    t.text('manual_instructions');
    t.string('locked_by');
    t.bigInteger('locked_until');
    t.text('source_password_sealed');
    t.text('dest_password_sealed');
    t.boolean('dest_password_generated').notNullable().defaultTo(false);
    t.boolean('dest_password_reported').notNullable().defaultTo(false);
    t.boolean('dest_create_intent').notNullable().defaultTo(false);
    t.text('preflight');
    t.text('folder_plan');
    t.text('verify_result');
    t.integer('sync_passes').notNullable().defaultTo(0);
    t.string('last_sync_at');
    t.string('created_at').notNullable();
    t.string('updated_at').notNullable();
    t.unique(['project_id', 'address']);
    t.index(['state', 'next_run_at']);
  });
  await db.schema.createTable('events', (t) => {
    t.increments('id');
    t.integer('project_id').notNullable();
    t.integer('mailbox_id');
    t.integer('domain_id');
    t.string('step');
    t.string('outcome').notNullable();
    t.text('message');
    t.string('actor').notNullable();
    t.string('at').notNullable();
    t.index(['mailbox_id']);
  });
  await createLedgerTables(db, 'mailboxes.id');
}

export async function down(db: Knex): Promise<void> {
  for (const table of ['skips', 'ledger', 'events', 'mailboxes', 'domain_steps', 'domains', 'projects', 'platforms']) {
    await db.schema.dropTableIfExists(table);
  }
}
