import type { Knex } from 'knex';
import type { Db } from '../knex.ts';

/**
 * What moved and what did not, counted from the ledger and the skip list. A refused message (the
 * destination said no) is a failure; other skips are choices (too big, excluded, duplicate).
 */
export interface Tally { copiedMessages: number; copiedBytes: number; skippedMessages: number; skippedBytes: number; refusedMessages: number }

export interface SkipLine { folder: string; uid: number; size: number; kind: string; reason: string }

type Counted = { key: number | string; n: number | string; bytes: number | string | null };

export const zeroTally = (): Tally => ({ copiedMessages: 0, copiedBytes: 0, skippedMessages: 0, skippedBytes: 0, refusedMessages: 0 });

export function addTally(into: Tally, more: Tally): Tally {
  for (const k of Object.keys(more) as Array<keyof Tally>) into[k] += more[k];
  return into;
}

// Two GROUP BY queries whatever the number of rows: the ledger by `key`, the skip list by `key` and kind.
async function tallies<K extends number | string>(copiedQuery: Knex.QueryBuilder, skippedQuery: Knex.QueryBuilder, key: string, toKey: (raw: number | string) => K): Promise<Map<K, Tally>> {
  const copied: Counted[] = await copiedQuery.groupBy(key).select(`${key} as key`).count({ n: '*' }).sum({ bytes: 'size' });
  const skipped: Array<Counted & { kind: string }> = await skippedQuery.groupBy(key, 'kind').select(`${key} as key`, 'kind').count({ n: '*' }).sum({ bytes: 'size' });
  const result = new Map<K, Tally>();
  const of = (raw: number | string) => {
    const k = toKey(raw);
    if (!result.has(k)) result.set(k, zeroTally());
    return result.get(k)!;
  };
  for (const c of copied) {
    const t = of(c.key);
    t.copiedMessages += Number(c.n);
    t.copiedBytes += Number(c.bytes ?? 0);
  }
  for (const s of skipped) {
    const t = of(s.key);
    if (s.kind === 'refused') t.refusedMessages += Number(s.n);
    else { t.skippedMessages += Number(s.n); t.skippedBytes += Number(s.bytes ?? 0); }
  }
  return result;
}

/** One mailbox, per source folder (every folder the ledger or the skip list knows). */
export function folderTallies(db: Db, mailboxId: number): Promise<Map<string, Tally>> {
  return tallies(db('ledger').where({ mailbox_id: mailboxId }), db('skips').where({ mailbox_id: mailboxId }), 'source_folder', String);
}

/** Per mailbox, for the mailboxes `mailboxIds` selects (a subquery: nothing is read per mailbox). */
export function mailboxTallies(db: Db, mailboxIds: Knex.QueryBuilder): Promise<Map<number, Tally>> {
  return tallies(db('ledger').whereIn('mailbox_id', mailboxIds.clone()), db('skips').whereIn('mailbox_id', mailboxIds.clone()), 'mailbox_id', Number);
}

/** A mailbox's skip list with the servers' reasons, by folder and UID. */
export async function skipList(db: Db, mailboxId: number, limit?: number): Promise<SkipLine[]> {
  const query = db('skips').where({ mailbox_id: mailboxId }).select('source_folder as folder', 'uid', 'size', 'kind', 'reason').orderBy(['source_folder', 'uid']);
  if (limit !== undefined) query.limit(limit);
  return (await query).map((s: SkipLine) => ({ ...s, uid: Number(s.uid), size: Number(s.size) }));
}
