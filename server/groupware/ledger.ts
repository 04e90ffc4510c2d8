// The groupware ledger: which source item (a DAV href, a Sieve script, a file's item) became which
// destination resource, at which versions on both sides. A re-run copies nothing twice, a changed
// source version is carried over, and only what this ledger knows is ever replaced or deleted on
// the destination. Collections keep a row each: what moved, what was skipped and why.
import type { Knex } from 'knex';

export type GroupwareKind = 'addressbook' | 'calendar' | 'tasks' | 'filters';

export interface LedgerItem {
  sourceId: string;
  collection: string;
  uid: string | null;
  sourceVersion: string;
  destHref: string;
  destVersion: string | null;
  pass: number;
}

export interface SkipItem { sourceId: string; collection: string; sourceVersion: string; reason: string; pass: number }

export type CollectionState = 'copied' | 'excluded' | 'unavailable' | 'failed';

export interface CollectionReport {
  /** The source collection's href, or `sieve:` for the filter scripts. */
  sourceId: string;
  kind: GroupwareKind;
  name: string;
  destHref: string | null;
  state: CollectionState;
  /** Why excluded, unavailable or failed. */
  reason: string | null;
  /** Items the source holds. */
  items: number;
  copied: number;
  updated: number;
  unchanged: number;
  deleted: number;
  skipped: number;
  pass: number;
}

export interface GroupwareLedger {
  items(collection: string): Promise<Map<string, LedgerItem>>;
  /** Upserts; an earlier skip of the item stays until unskip() (the caller knows whether there was one). */
  record(item: LedgerItem): Promise<void>;
  forget(sourceId: string): Promise<void>;
  skips(collection: string): Promise<Map<string, SkipItem>>;
  skip(item: SkipItem): Promise<void>;
  unskip(sourceId: string): Promise<void>;
  collection(sourceId: string): Promise<CollectionReport | undefined>;
  saveCollection(report: CollectionReport): Promise<void>;
  collections(): Promise<CollectionReport[]>;
  /** Skip reasons of one collection, for the mailbox page and the report. */
  skipList(collection: string, limit?: number): Promise<SkipItem[]>;
}

export async function createGroupwareTables(db: Knex): Promise<void> {
  await db.schema.createTable('groupware_items', (t) => {
    t.integer('mailbox_id').notNullable();
    t.string('source_id', 2000).notNullable();
    t.string('collection', 2000).notNullable();
    t.string('uid', 1000);
    t.string('source_version', 1000).notNullable();
    t.string('dest_href', 2000).notNullable();
    t.string('dest_version', 1000);
    t.integer('pass').notNullable();
    t.primary(['mailbox_id', 'source_id']);
    t.index(['mailbox_id', 'collection'], 'groupware_items_collection');
  });
  await db.schema.createTable('groupware_skips', (t) => {
    t.integer('mailbox_id').notNullable();
    t.string('source_id', 2000).notNullable();
    t.string('collection', 2000).notNullable();
    t.string('source_version', 1000).notNullable();
    t.text('reason').notNullable();
    t.integer('pass').notNullable();
    t.primary(['mailbox_id', 'source_id']);
    t.index(['mailbox_id', 'collection'], 'groupware_skips_collection');
  });
  await db.schema.createTable('groupware_collections', (t) => {
    t.integer('mailbox_id').notNullable();
    t.string('source_id', 2000).notNullable();
    t.string('kind').notNullable();
    t.string('name', 1000).notNullable();
    t.string('dest_href', 2000);
    t.string('state').notNullable();
    t.text('reason');
    for (const column of ['items', 'copied', 'updated', 'unchanged', 'deleted', 'skipped', 'pass']) t.integer(column).notNullable().defaultTo(0);
    t.string('updated_at').notNullable();
    t.primary(['mailbox_id', 'source_id']);
  });
}

export async function dropGroupwareTables(db: Knex): Promise<void> {
  for (const table of ['groupware_collections', 'groupware_skips', 'groupware_items']) await db.schema.dropTableIfExists(table);
}

interface ItemRow { source_id: string; collection: string; uid: string | null; source_version: string; dest_href: string; dest_version: string | null; pass: number }
interface SkipRow { source_id: string; collection: string; source_version: string; reason: string; pass: number }
interface CollectionRow { source_id: string; kind: string; name: string; dest_href: string | null; state: string; reason: string | null; items: number; copied: number; updated: number; unchanged: number; deleted: number; skipped: number; pass: number }

const toItem = (r: ItemRow): LedgerItem => ({ sourceId: r.source_id, collection: r.collection, uid: r.uid, sourceVersion: r.source_version, destHref: r.dest_href, destVersion: r.dest_version, pass: Number(r.pass) });
const toSkip = (r: SkipRow): SkipItem => ({ sourceId: r.source_id, collection: r.collection, sourceVersion: r.source_version, reason: r.reason, pass: Number(r.pass) });
const toCollection = (r: CollectionRow): CollectionReport => ({
  sourceId: r.source_id, kind: r.kind as GroupwareKind, name: r.name, destHref: r.dest_href, state: r.state as CollectionState, reason: r.reason,
  items: Number(r.items), copied: Number(r.copied), updated: Number(r.updated), unchanged: Number(r.unchanged), deleted: Number(r.deleted), skipped: Number(r.skipped), pass: Number(r.pass),
});

export function dbGroupwareLedger(db: Knex, mailboxId: number): GroupwareLedger {
  const mine = { mailbox_id: mailboxId };
  return {
    async items(collection) {
      const rows = await db('groupware_items').where({ ...mine, collection }) as ItemRow[];
      return new Map(rows.map((r) => [r.source_id, toItem(r)]));
    },
    async record(item) {
      await db('groupware_items').insert({
        ...mine, source_id: item.sourceId, collection: item.collection, uid: item.uid, source_version: item.sourceVersion,
        dest_href: item.destHref, dest_version: item.destVersion, pass: item.pass,
      }).onConflict(['mailbox_id', 'source_id']).merge();
    },
    async forget(sourceId) {
      await db('groupware_items').where({ ...mine, source_id: sourceId }).delete();
    },
    async skips(collection) {
      const rows = await db('groupware_skips').where({ ...mine, collection }) as SkipRow[];
      return new Map(rows.map((r) => [r.source_id, toSkip(r)]));
    },
    async skip(item) {
      await db('groupware_skips').insert({ ...mine, source_id: item.sourceId, collection: item.collection, source_version: item.sourceVersion, reason: item.reason.slice(0, 2000), pass: item.pass })
        .onConflict(['mailbox_id', 'source_id']).merge();
    },
    async unskip(sourceId) {
      await db('groupware_skips').where({ ...mine, source_id: sourceId }).delete();
    },
    async collection(sourceId) {
      const row = await db('groupware_collections').where({ ...mine, source_id: sourceId }).first() as CollectionRow | undefined;
      return row ? toCollection(row) : undefined;
    },
    async saveCollection(r) {
      await db('groupware_collections').insert({
        ...mine, source_id: r.sourceId, kind: r.kind, name: r.name.slice(0, 1000), dest_href: r.destHref, state: r.state, reason: r.reason,
        items: r.items, copied: r.copied, updated: r.updated, unchanged: r.unchanged, deleted: r.deleted, skipped: r.skipped, pass: r.pass,
        updated_at: new Date().toISOString(),
      }).onConflict(['mailbox_id', 'source_id']).merge();
    },
    async collections() {
      const rows = await db('groupware_collections').where(mine).orderBy(['kind', 'source_id']) as CollectionRow[];
      return rows.map(toCollection);
    },
    async skipList(collection, limit = 200) {
      const rows = await db('groupware_skips').where({ ...mine, collection }).orderBy('source_id').limit(limit) as SkipRow[];
      return rows.map(toSkip);
    },
  };
}
