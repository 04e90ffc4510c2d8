import type { Db } from '../db/knex.ts';
import { dbGroupwareLedger, type CollectionReport } from '../groupware/ledger.ts';

/** One collection (address book, calendar, task list, the filter scripts) of a mailbox: what moved, what did not and why. */
export interface GroupwareLine extends Omit<CollectionReport, 'sourceId' | 'pass'> {
  source: string;
  /** Items of this collection the migration has put on the destination, over every pass (the counts beside it are the last pass's). */
  onDestination: number;
  skips: Array<{ item: string; reason: string }>;
}

const SKIPS_PER_COLLECTION = 50;

export async function groupwareLines(db: Db, mailboxId: number): Promise<GroupwareLine[]> {
  if (!(await db.schema.hasTable('groupware_collections'))) return [];
  const ledger = dbGroupwareLedger(db, mailboxId);
  const lines: GroupwareLine[] = [];
  const counted = await db('groupware_items').where({ mailbox_id: mailboxId }).groupBy('collection').select('collection').count({ n: '*' }) as Array<{ collection: string; n: number | string }>;
  const placed = new Map(counted.map((r) => [r.collection, Number(r.n)]));
  for (const { sourceId, pass: _pass, ...rest } of await ledger.collections()) {
    const skips = (await ledger.skipList(sourceId, SKIPS_PER_COLLECTION)).map((s) => ({ item: s.sourceId.slice(sourceId.length) || s.sourceId, reason: s.reason }));
    lines.push({ source: sourceId, ...rest, onDestination: placed.get(sourceId) ?? 0, skips });
  }
  return lines;
}
