import type { Db } from '../db/knex.ts';
import { jsonRows, type JsonColumnType } from '../db/json-rows.ts';
import { LEDGER_KEY } from './ledger-schema.ts';
import { deltaStore, encodeFlags, type DeltaStore } from './delta/store.ts';

export interface LedgerEntry {
  sourceFolder: string;
  uidValidity: string;
  uid: number;
  destFolder: string;
  destUid: number | null;
  size: number;
  fingerprint: string;
  pass: number;
  /** The flags the copy was APPENDed with; absent when this migration did not write it (matched on the destination). */
  flags?: string[];
}

export interface SkipEntry {
  sourceFolder: string;
  uidValidity: string;
  uid: number;
  size: number;
  kind: 'too-big' | 'refused' | 'excluded';
  reason: string;
}

export interface FolderTally { messages: number; bytes: number }

export interface Checkpoint { uidValidity: string; uidNext: number }

/** Where the copy engine remembers what it moved: rows in the database, or a state file for `cutover copy`. */
export interface LedgerStore {
  /** UIDs copied or deliberately skipped; with `fromUid`, only those at or above it. */
  handledUids(sourceFolder: string, uidValidity: string, fromUid?: number): Promise<Set<number>>;
  /** Destination UIDs the ledger accounts for in `destFolder`; with `from`, only those copied from that source folder generation. */
  destUids(destFolder: string, from?: { sourceFolder: string; uidValidity: string }): Promise<Set<number>>;
  record(entry: LedgerEntry): Promise<void>;
  recordMany(entries: LedgerEntry[]): Promise<void>;
  skip(entry: SkipEntry): Promise<void>;
  copiedTally(sourceFolder: string, uidValidity: string): Promise<FolderTally>;
  /**
   * Messages already copied or deliberately skipped, all folders together: what a re-run will not
   * fetch. Given the folders as they are now, only rows under their current UIDVALIDITY count
   * (GNU imap4d gives a new UIDVALIDITY to a folder on each session; rows of old ones are not work done).
   */
  handledCount(current?: Array<{ sourceFolder: string; uidValidity: string }>): Promise<number>;
  /** Messages the destination refused: tried again on every pass, since a quota can be raised. */
  refusedUids(sourceFolder: string): Promise<number[]>;
  checkpoint(sourceFolder: string): Promise<Checkpoint | undefined>;
  /** Every folder's checkpoint in one read (a mailbox can have 100,000 folders). */
  checkpoints(): Promise<Map<string, Checkpoint>>;
  saveCheckpoint(sourceFolder: string, checkpoint: Checkpoint): Promise<void>;
  skippedTally(sourceFolder: string, uidValidity: string): Promise<FolderTally>;
  /** What delta passes read and write to mirror the source (flags, deletions, moves). */
  readonly delta?: DeltaStore;
}

export function dbLedger(db: Db, mailboxId: number): LedgerStore {
  const tally = async (table: 'ledger' | 'skips', sourceFolder: string, uidValidity: string): Promise<FolderTally> => {
    const row = await db(table).where({ mailbox_id: mailboxId, source_folder: sourceFolder, uidvalidity: uidValidity })
      .count({ messages: '*' }).sum({ bytes: 'size' }).first() as { messages: number | string; bytes: number | string | null } | undefined;
    return { messages: Number(row?.messages ?? 0), bytes: Number(row?.bytes ?? 0) };
  };
  return {
    async handledUids(sourceFolder, uidValidity, fromUid = 1) {
      const where = { mailbox_id: mailboxId, source_folder: sourceFolder, uidvalidity: uidValidity };
      const [copied, skipped] = await Promise.all([
        db('ledger').where(where).andWhere('uid', '>=', fromUid).pluck('uid'),
        db('skips').where(where).andWhere('uid', '>=', fromUid).whereNot('kind', 'refused').pluck('uid'),
      ]);
      return new Set([...copied, ...skipped].map(Number));
    },
    async destUids(destFolder, from) {
      const uids = await db('ledger').where({ mailbox_id: mailboxId, dest_folder: destFolder }).whereNotNull('dest_uid')
        .modify((q) => { if (from) q.andWhere({ source_folder: from.sourceFolder, uidvalidity: from.uidValidity }); })
        .pluck('dest_uid');
      return new Set(uids.map(Number));
    },
    record(e) {
      return this.recordMany([e]);
    },
    async recordMany(entries) {
      const rows = entries.map((e) => ({
        mailbox_id: mailboxId, source_folder: e.sourceFolder, uidvalidity: e.uidValidity, uid: e.uid,
        dest_folder: e.destFolder, dest_uid: e.destUid, size: e.size, fingerprint: e.fingerprint, pass: e.pass, flags: e.flags ? encodeFlags(e.flags) : null,
      }));
      if (rows.length) await db.raw(insertLedgerRows(db), [JSON.stringify(rows)]);
    },
    async skip(e) {
      await db('skips').insert({
        mailbox_id: mailboxId, source_folder: e.sourceFolder, uidvalidity: e.uidValidity, uid: e.uid, size: e.size, kind: e.kind, reason: e.reason,
      }).onConflict(LEDGER_KEY).merge(['kind', 'reason', 'size']);
    },
    copiedTally: (folder, uv) => tally('ledger', folder, uv),
    async refusedUids(sourceFolder) {
      return (await db('skips').where({ mailbox_id: mailboxId, source_folder: sourceFolder, kind: 'refused' }).pluck('uid')).map(Number);
    },
    async checkpoint(sourceFolder) {
      const row = await db('checkpoints').where({ mailbox_id: mailboxId, source_folder: sourceFolder }).first();
      return row ? { uidValidity: String(row.uidvalidity), uidNext: Number(row.uid_next) } : undefined;
    },
    async checkpoints() {
      const rows = await db('checkpoints').where({ mailbox_id: mailboxId }).select('source_folder', 'uidvalidity', 'uid_next');
      return new Map(rows.map((row) => [String(row.source_folder), { uidValidity: String(row.uidvalidity), uidNext: Number(row.uid_next) }]));
    },
    async saveCheckpoint(sourceFolder, checkpoint) {
      await db('checkpoints').insert({ mailbox_id: mailboxId, source_folder: sourceFolder, uidvalidity: checkpoint.uidValidity, uid_next: checkpoint.uidNext })
        .onConflict(['mailbox_id', 'source_folder']).merge(['uidvalidity', 'uid_next']);
    },
    async handledCount(current) {
      if (current) {
        const wanted = new Set(current.map((c) => `${c.uidValidity}\u0000${c.sourceFolder}`));
        const grouped = async (table: 'ledger' | 'skips') => {
          const rows = await db(table).where({ mailbox_id: mailboxId }).modify((q) => { if (table === 'skips') q.whereNot('kind', 'refused'); })
            .select('source_folder', 'uidvalidity').count({ n: '*' }).groupBy('source_folder', 'uidvalidity') as Array<{ source_folder: string; uidvalidity: string; n: number | string }>;
          return rows.reduce((sum, r) => sum + (wanted.has(`${r.uidvalidity}\u0000${r.source_folder}`) ? Number(r.n) : 0), 0);
        };
        const [copied, skipped] = await Promise.all([grouped('ledger'), grouped('skips')]);
        return copied + skipped;
      }
      const copied = await db('ledger').where({ mailbox_id: mailboxId }).count({ n: '*' }).first();
      const skipped = await db('skips').where({ mailbox_id: mailboxId }).whereNot('kind', 'refused').count({ n: '*' }).first();
      return Number(copied?.n ?? 0) + Number(skipped?.n ?? 0);
    },
    skippedTally: (folder, uv) => tally('skips', folder, uv),
    delta: deltaStore(db, mailboxId),
  };
}

const LEDGER_COLUMNS: Record<string, JsonColumnType> = {
  mailbox_id: 'integer', source_folder: 'text', uidvalidity: 'bigint', uid: 'bigint', dest_folder: 'text', dest_uid: 'bigint', size: 'integer', fingerprint: 'text', pass: 'integer', flags: 'text',
};

/** One statement for a whole batch of ledger rows; an existing row (the same source message) is kept. */
function insertLedgerRows(db: Db): string {
  const rows = jsonRows(db, 'entry', LEDGER_COLUMNS);
  const names = Object.keys(LEDGER_COLUMNS);
  // "WHERE true" keeps SQLite from reading ON CONFLICT as a join constraint of the SELECT.
  return `INSERT INTO ledger (${names.join(', ')}) SELECT ${names.map(rows.column).join(', ')} FROM ${rows.from} WHERE true ON CONFLICT (${LEDGER_KEY.join(', ')}) DO NOTHING`;
}
