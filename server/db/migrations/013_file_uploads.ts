import type { Knex } from 'knex';

/**
 * Files uploaded for a mailbox's file import (PST, mbox, EML, ZIP, ICS, VCF): where the upload
 * stands (bytes on disk out of the announced size, so a broken upload resumes at the right offset),
 * what the dry run found, and the import's progress and report.
 */
export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('file_uploads', (t) => {
    t.increments('id');
    t.integer('mailbox_id').notNullable().references('id').inTable('mailboxes').onDelete('CASCADE');
    t.string('name', 255).notNullable();
    t.bigInteger('size').notNullable();
    t.string('state', 16).notNullable();
    t.text('plan').nullable();
    t.text('progress').nullable();
    t.text('report').nullable();
    t.text('error').nullable();
    t.string('created_by', 320).notNullable();
    t.string('created_at', 32).notNullable();
    t.string('updated_at', 32).notNullable();
    t.index(['mailbox_id'], 'file_uploads_mailbox');
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTableIfExists('file_uploads');
}
