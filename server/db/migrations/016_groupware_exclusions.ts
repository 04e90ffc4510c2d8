import type { Knex } from 'knex';
import { createExclusionTable } from '../../groupware/exclusions.ts';

/**
 * Collections an admin leaves out of one mailbox (the mailbox page and the API). Until now a
 * `collections` list inside the folder-plan override did it, where a folder named "collections"
 * would have collided with it: such lists move here, and leave the override.
 */
export async function up(db: Knex): Promise<void> {
  await createExclusionTable(db);
  const rows = await db('mailboxes').whereNotNull('folder_plan_override').select('id', 'folder_plan_override') as Array<{ id: number; folder_plan_override: string }>;
  const at = new Date().toISOString();
  for (const row of rows) {
    let override: Record<string, unknown>;
    try { override = JSON.parse(row.folder_plan_override) as Record<string, unknown>; } catch { continue; }
    const listed = override.collections;
    if (!Array.isArray(listed)) continue;
    const names = [...new Set(listed.filter((c): c is string => typeof c === 'string' && c.trim() !== '').map((c) => c.trim().slice(0, 1000)))];
    for (const collection of names) await db('groupware_exclusions').insert({ mailbox_id: row.id, collection, actor: 'migration', created_at: at });
    delete override.collections;
    await db('mailboxes').where({ id: row.id }).update({ folder_plan_override: Object.keys(override).length ? JSON.stringify(override) : null });
  }
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTableIfExists('groupware_exclusions');
}
