import type { Knex } from 'knex';
import { createGroupwareTables, dropGroupwareTables } from '../../groupware/ledger.ts';

/**
 * The groupware ledger (contacts, calendars, tasks, filter scripts): source item → destination
 * resource with both versions, the skip list with the servers' words, and one row per collection
 * (what moved, what was skipped, or why it was left out). Same tables in a `cutover copy --state` file.
 */
export async function up(db: Knex): Promise<void> {
  await createGroupwareTables(db);
}

export async function down(db: Knex): Promise<void> {
  await dropGroupwareTables(db);
}
