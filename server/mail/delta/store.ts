import type { Knex } from 'knex';
import { jsonRows } from '../../db/json-rows.ts';
import { LEDGER_KEY } from '../ledger-schema.ts';

/** A message the ledger knows, as a delta pass needs it. `flags` null: not written by this migration with known flags. */
export interface KnownCopy {
  sourceFolder: string;
  uidValidity: string;
  uid: number;
  destFolder: string;
  destUid: number | null;
  flags: string[] | null;
  fingerprint: string;
  size: number;
  pass: number;
}

export interface FolderMark { uidValidity: string; uidNext: number; highestModseq?: string }

/** The delta pass's reads and writes on the ledger's tables (main database or state file). */
export interface DeltaStore {
  /** Every folder's checkpoint with its HIGHESTMODSEQ, in one read. */
  marks(): Promise<Map<string, FolderMark>>;
  /** Each folder's HIGHESTMODSEQ, all in one transaction. */
  saveModseqs(marks: Array<{ sourceFolder: string; highestModseq: string }>): Promise<void>;
  /** Copies of one source folder; without `uidValidity`, of every generation of it. */
  copies(sourceFolder: string, uidValidity?: string): Promise<KnownCopy[]>;
  /** Copies of several source folders, each of the given generation, in one read: by source folder. */
  copiesIn(folders: Array<{ sourceFolder: string; uidValidity: string }>): Promise<Map<string, KnownCopy[]>>;
  setFlags(changes: Array<{ copy: KnownCopy; flags: string[] }>): Promise<void>;
  forget(copies: KnownCopy[]): Promise<void>;
  /** Copies kept for good although their source message is gone (deletions not mirrored): never deleted by a later pass either. */
  keep(copies: KnownCopy[]): Promise<void>;
  /** Copies recognised under their folder's new UIDVALIDITY: each row now goes by the message's new UIDVALIDITY and UID. */
  adopt(rekeyed: Array<{ copy: KnownCopy; uidValidity: string; uid: number }>): Promise<void>;
  /** A copy moved on the destination: its row now names the source message it is a copy of. */
  moved(from: KnownCopy, to: KnownCopy): Promise<void>;
  dropCheckpoint(sourceFolder: string): Promise<void>;
  /** A folder renamed on both sides: its copies, skips and checkpoint now go by the new names (copies moved elsewhere keep their folder). */
  renameFolder(from: { source: string; dest: string }, to: { source: string; dest: string }): Promise<void>;
  /** Source folders the ledger holds copies of, per UIDVALIDITY, with the highest UID copied. */
  ledgerFolders(): Promise<Array<{ sourceFolder: string; uidValidity: string; maxUid: number }>>;
}

const COPY_COLUMNS = ['source_folder', 'uidvalidity', 'uid', 'dest_folder', 'dest_uid', 'flags', 'fingerprint', 'size', 'pass'];

function knownCopy(r: Record<string, unknown>): KnownCopy {
  return {
    sourceFolder: String(r.source_folder), uidValidity: String(r.uidvalidity), uid: Number(r.uid), destFolder: String(r.dest_folder),
    destUid: r.dest_uid === null ? null : Number(r.dest_uid), flags: decodeFlags(r.flags as string | null), fingerprint: String(r.fingerprint), size: Number(r.size), pass: Number(r.pass),
  };
}

export function encodeFlags(flags: readonly string[]): string {
  return [...flags].sort().join(' ');
}

function decodeFlags(value: string | null | undefined): string[] | null {
  if (value === null || value === undefined) return null;
  return value === '' ? [] : value.split(' ');
}

const ROWS_PER_STATEMENT = 100;

export function deltaStore(db: Knex, mailboxId: number): DeltaStore {
  const key = (c: KnownCopy) => ({ mailbox_id: mailboxId, source_folder: c.sourceFolder, uidvalidity: c.uidValidity, uid: c.uid });
  return {
    async marks() {
      const rows = await db('checkpoints').where({ mailbox_id: mailboxId }).select('source_folder', 'uidvalidity', 'uid_next', 'highest_modseq');
      return new Map(rows.map((r) => [String(r.source_folder), {
        uidValidity: String(r.uidvalidity), uidNext: Number(r.uid_next), highestModseq: r.highest_modseq ? String(r.highest_modseq) : undefined,
      }]));
    },
    async saveModseqs(marks) {
      if (!marks.length) return;
      await db.transaction(async (trx) => {
        for (const { sourceFolder, highestModseq } of marks) {
          await trx('checkpoints').where({ mailbox_id: mailboxId, source_folder: sourceFolder }).update({ highest_modseq: highestModseq });
        }
      });
    },
    async copies(sourceFolder, uidValidity) {
      const rows = await db('ledger').where({ mailbox_id: mailboxId, source_folder: sourceFolder })
        .modify((q) => { if (uidValidity !== undefined) q.andWhere({ uidvalidity: uidValidity }); })
        .select(...COPY_COLUMNS);
      return rows.map(knownCopy);
    },
    async copiesIn(folders) {
      const generation = new Map(folders.map((f) => [f.sourceFolder, f.uidValidity]));
      const byFolder = new Map<string, KnownCopy[]>();
      const names = [...generation.keys()];
      for (let i = 0; i < names.length; i += ROWS_PER_STATEMENT) {
        const rows = await db('ledger').where({ mailbox_id: mailboxId }).whereIn('source_folder', names.slice(i, i + ROWS_PER_STATEMENT)).select(...COPY_COLUMNS);
        for (const row of rows) {
          const copy = knownCopy(row);
          if (generation.get(copy.sourceFolder) !== copy.uidValidity) continue;
          const list = byFolder.get(copy.sourceFolder);
          if (list) list.push(copy); else byFolder.set(copy.sourceFolder, [copy]);
        }
      }
      return byFolder;
    },
    async setFlags(changes) {
      if (!changes.length) return;
      // One statement for all of them (500 changed messages had been a hundred UPDATEs, one per flag
      // set). Each row names the whole key, mailbox included: SQLite then looks every row up by the
      // primary key instead of reading the mailbox's rows once per change.
      const rows = changes.map(({ copy, flags }) => ({ mailbox_id: mailboxId, source_folder: copy.sourceFolder, uidvalidity: Number(copy.uidValidity), uid: copy.uid, flags: encodeFlags(flags) }));
      const changed = jsonRows(db, 'changed', { mailbox_id: 'integer', source_folder: 'text', uidvalidity: 'bigint', uid: 'bigint', flags: 'text' });
      const key = LEDGER_KEY.map((column) => `ledger.${column} = ${changed.column(column)}`).join(' AND ');
      await db.raw(`UPDATE ledger SET flags = ${changed.column('flags')} FROM ${changed.from} WHERE ${key}`, [JSON.stringify(rows)]);
    },
    async forget(copies) {
      await db.transaction(async (trx) => {
        for (let i = 0; i < copies.length; i += ROWS_PER_STATEMENT) {
          const slice = copies.slice(i, i + ROWS_PER_STATEMENT);
          await trx('ledger').where((q) => { for (const c of slice) q.orWhere(key(c)); }).delete();
        }
      });
    },
    async keep(copies) {
      await db.transaction(async (trx) => {
        for (const copy of copies) await trx('ledger').where(key(copy)).update({ flags: null });
      });
    },
    async adopt(rekeyed) {
      await db.transaction(async (trx) => {
        for (const { copy, uidValidity, uid } of rekeyed) await trx('ledger').where(key(copy)).update({ uidvalidity: uidValidity, uid });
      });
    },
    async moved(from, to) {
      await db.transaction(async (trx) => {
        await trx('ledger').where(key(from)).delete();
        await trx('ledger').insert({
          ...key(to), dest_folder: to.destFolder, dest_uid: to.destUid, size: to.size, fingerprint: to.fingerprint, pass: to.pass, flags: to.flags ? encodeFlags(to.flags) : null,
        }).onConflict(LEDGER_KEY).merge(['dest_folder', 'dest_uid', 'flags', 'pass']);
      });
    },
    async renameFolder(from, to) {
      await db.transaction(async (trx) => {
        const of = (folder: string) => ({ mailbox_id: mailboxId, source_folder: folder });
        await trx('ledger').where({ ...of(from.source), dest_folder: from.dest }).update({ dest_folder: to.dest });
        await trx('ledger').where(of(from.source)).update({ source_folder: to.source });
        await trx('skips').where(of(from.source)).update({ source_folder: to.source });
        await trx('checkpoints').where(of(from.source)).update({ source_folder: to.source });
      });
    },
    async dropCheckpoint(sourceFolder) {
      await db('checkpoints').where({ mailbox_id: mailboxId, source_folder: sourceFolder }).delete();
    },
    async ledgerFolders() {
      const rows = await db('ledger').where({ mailbox_id: mailboxId }).groupBy('source_folder', 'uidvalidity').select('source_folder', 'uidvalidity').max({ top: 'uid' });
      return rows.map((r: Record<string, unknown>) => ({ sourceFolder: String(r.source_folder), uidValidity: String(r.uidvalidity), maxUid: Number(r.top) }));
    },
  };
}
