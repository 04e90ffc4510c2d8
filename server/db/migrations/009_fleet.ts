import type { Knex } from 'knex';

/**
 * Several workers on several hosts sharing one database:
 * - `workers`: one row per running worker, its heartbeat (what `cutover workers` and the panel show;
 *   a stale heartbeat is a lost worker);
 * - the domain row is the lock of a domain step (attach-domain, dns-cutover): one worker of the
 *   whole fleet runs it, the others wait on it;
 * - `platforms.max_connections` and `host_slots`: a connection cap per mail host that holds across
 *   every worker; a slot is a row, held while the connection is open and expiring with its worker.
 */
export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('workers', (t) => {
    t.string('id').primary();
    t.string('host').notNullable();
    t.integer('pid').notNullable();
    t.bigInteger('started_at').notNullable();
    t.bigInteger('heartbeat_at').notNullable();
    t.bigInteger('stopped_at');
  });
  await db.schema.alterTable('domains', (t) => {
    t.string('locked_by');
    t.bigInteger('locked_until');
  });
  await db.schema.alterTable('platforms', (t) => { t.integer('max_connections'); });
  await db.schema.createTable('host_slots', (t) => {
    t.increments('id');
    t.string('host').notNullable();
    t.string('holder').notNullable();
    t.bigInteger('expires_at').notNullable();
    t.index(['host', 'expires_at']);
    t.index(['holder']);
  });
  await db.schema.alterTable('mailboxes', (t) => { t.index(['locked_by']); });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.alterTable('mailboxes', (t) => { t.dropIndex(['locked_by']); });
  await db.schema.dropTableIfExists('host_slots');
  for (const [table, columns] of [['platforms', ['max_connections']], ['domains', ['locked_by', 'locked_until']]] as const) {
    for (const column of columns) {
      if (String(db.client.config.client).startsWith('sqlite')) await db.raw(`ALTER TABLE ${table} DROP COLUMN ${column}`);
      else await db.schema.alterTable(table, (t) => { t.dropColumn(column); });
    }
  }
  await db.schema.dropTableIfExists('workers');
}
