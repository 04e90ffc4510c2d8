import type { Knex } from 'knex';

/**
 * One row per thing worth a mail (a project started, completed, failed; a mailbox or a domain
 * needs an admin). `key` is unique: a detection seen again by any worker inserts nothing, so
 * each is mailed once. Delivery state lives on the row (graphile-worker style): attempts,
 * next_attempt_at, last_error, and a short claim so two workers never send the same row.
 */
export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('notifications', (t) => {
    t.increments('id');
    t.string('key').notNullable().unique();
    t.string('kind').notNullable();
    t.integer('project_id').notNullable();
    t.integer('mailbox_id');
    t.integer('domain_id');
    t.string('step');
    /** JSON array, as the project's options said when the event was seen. */
    t.text('recipients').notNullable();
    /** One line about this event (address, step, instructions, error); mails are composed from these. */
    t.text('detail');
    /** pending → sent, or abandoned after too many failures; skipped when no SMTP server is configured. */
    t.string('status').notNullable();
    t.integer('attempts').notNullable().defaultTo(0);
    t.bigInteger('next_attempt_at').notNullable().defaultTo(0);
    t.string('claimed_by');
    t.bigInteger('claimed_until');
    t.text('last_error');
    t.string('created_at').notNullable();
    t.string('sent_at');
    t.index(['status', 'next_attempt_at']);
    t.index(['kind', 'mailbox_id', 'step']);
    t.index(['kind', 'domain_id', 'step']);
    t.index(['project_id', 'kind']);
  });
  // The audit page merges project events with the audit trail, newest first.
  await db.schema.alterTable('events', (t) => { t.index(['at'], 'events_at_index'); });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.alterTable('events', (t) => { t.dropIndex(['at'], 'events_at_index'); });
  await db.schema.dropTableIfExists('notifications');
}
