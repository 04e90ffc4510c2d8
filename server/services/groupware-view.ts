import type { Db } from '../db/knex.ts';
import { dbGroupwareLedger, type CollectionReport } from '../groupware/ledger.ts';

/** One collection (address book, calendar, task list, the filter scripts) of a mailbox: what moved, what did not and why. */
export interface GroupwareLine extends Omit<CollectionReport, 'sourceId' | 'pass'> {
  source: string;
  skips: Array<{ item: string; reason: string }>;
}

const SKIPS_PER_COLLECTION = 50;

export async function groupwareLines(db: Db, mailboxId: number): Promise<GroupwareLine[]> {
  if (!(await db.schema.hasTable('groupware_collections'))) return [];
  const ledger = dbGroupwareLedger(db, mailboxId);
  const lines: GroupwareLine[] = [];
  for (const { sourceId, pass: _pass, ...rest } of await ledger.collections()) {
    const skips = (await ledger.skipList(sourceId, SKIPS_PER_COLLECTION)).map((s) => ({ item: s.sourceId.slice(sourceId.length) || s.sourceId, reason: s.reason }));
    lines.push({ source: sourceId, ...rest, skips });
  }
  return lines;
}
