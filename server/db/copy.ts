import type { Knex } from 'knex';
import { CutoverError } from '../errors.ts';
import type { Db } from './knex.ts';

export interface TableCount { table: string; source: number; target: number }

const BATCH_ROWS = 500;
const BOOKKEEPING = new Set(['knex_migrations', 'knex_migrations_lock']);

interface TargetColumn { table_name: string; column_name: string; data_type: string; column_default: string | null }

/**
 * Copies every table of a SQLite installation into a migrated, empty PostgreSQL database, parents
 * before children, in one transaction; sealed secrets travel as they are (the same secret key opens
 * them). Returns the row count of each table on both sides; a difference is an error.
 */
export async function copyDatabase(source: Db, target: Db, onTable: (table: string, rows: number) => void = () => undefined): Promise<TableCount[]> {
  if (!String(source.client.config.client).startsWith('sqlite')) throw invalid('the source must be the SQLite database of this installation');
  if (!/^(pg|postgres)/.test(String(target.client.config.client))) throw invalid('the target must be a postgres:// URL');
  const columns: TargetColumn[] = (await target.raw(`select table_name, column_name, data_type, column_default from information_schema.columns where table_schema = current_schema()`)).rows;
  const tables = await parentsFirst(target, [...new Set(columns.map((c) => c.table_name))].filter((t) => !BOOKKEEPING.has(t)));
  const sourceTables = new Set((await source.raw(`select name from sqlite_master where type = 'table'`) as Array<{ name: string }>).map((r) => r.name));
  for (const table of ['platforms', 'projects', 'mailboxes', 'users']) {
    if (Number((await target(table).count({ n: '*' }).first())?.n ?? 0) > 0) throw invalid(`the target database is not empty (table ${table} has rows); give an empty database`);
  }
  const counts: TableCount[] = [];
  await target.transaction(async (trx) => {
    for (const table of tables) {
      if (!sourceTables.has(table)) continue;
      const cols = columns.filter((c) => c.table_name === table);
      const copied = await copyTable(source, trx, table, cols);
      onTable(table, copied);
      // Serial ids continue after the copied ones.
      for (const c of cols.filter((col) => col.column_default?.startsWith('nextval('))) {
        await trx.raw(`select setval(pg_get_serial_sequence(?, ?), coalesce((select max(??) from ??), 1), (select max(??) from ??) is not null)`, [table, c.column_name, c.column_name, table, c.column_name, table]);
      }
    }
    for (const table of tables.filter((t) => sourceTables.has(t))) {
      const [s, t] = await Promise.all([source(table).count({ n: '*' }).first(), trx(table).count({ n: '*' }).first()]);
      counts.push({ table, source: Number(s?.n ?? 0), target: Number(t?.n ?? 0) });
    }
    const wrong = counts.filter((c) => c.source !== c.target);
    if (wrong.length) throw invalid(`row counts differ after the copy: ${wrong.map((c) => `${c.table} ${c.source} → ${c.target}`).join(', ')}; nothing was kept`);
  });
  return counts;
}

async function copyTable(source: Db, target: Knex.Transaction, table: string, cols: TargetColumn[]): Promise<number> {
  const convert = new Map(cols.map((c) => [c.column_name, converter(c.data_type)]));
  // Keyset pages over SQLite's rowid: constant memory and time per page whatever the table's size.
  const perBatch = Math.max(1, Math.min(BATCH_ROWS, Math.floor(60_000 / Math.max(1, cols.length))));
  let last = -Infinity;
  let copied = 0;
  for (;;) {
    const rows: Array<Record<string, unknown>> = await source.raw(`select rowid as "__rowid", * from "${table}" where rowid > ? order by rowid limit ?`, [last === -Infinity ? -1 : last, perBatch]);
    if (rows.length === 0) return copied;
    last = Number(rows[rows.length - 1]!.__rowid);
    const batch = rows.map((row) => Object.fromEntries(Object.entries(row).filter(([k]) => k !== '__rowid' && convert.has(k)).map(([k, v]) => [k, convert.get(k)!(v)])));
    await target(table).insert(batch);
    copied += rows.length;
  }
}

function converter(dataType: string): (v: unknown) => unknown {
  if (dataType === 'boolean') return (v) => (v === null || v === undefined ? null : typeof v === 'string' ? v === '1' || v === 'true' : Boolean(v));
  if (dataType.startsWith('timestamp')) return (v) => (typeof v === 'number' ? new Date(v) : v);
  return (v) => v;
}

// Foreign keys decide the order: a table comes after every table it references.
async function parentsFirst(target: Db, tables: string[]): Promise<string[]> {
  const edges: Array<{ child: string; parent: string }> = (await target.raw(`
    select tc.table_name as child, ccu.table_name as parent
    from information_schema.table_constraints tc
    join information_schema.constraint_column_usage ccu on ccu.constraint_name = tc.constraint_name and ccu.table_schema = tc.table_schema
    where tc.constraint_type = 'FOREIGN KEY' and tc.table_schema = current_schema()`)).rows;
  const ordered: string[] = [];
  const visit = (table: string, path: Set<string>) => {
    if (ordered.includes(table) || path.has(table)) return;
    path.add(table);
    for (const e of edges) if (e.child === table && e.parent !== table) visit(e.parent, path);
    ordered.push(table);
  };
  for (const table of [...tables].sort()) visit(table, new Set());
  return ordered.filter((t) => tables.includes(t));
}

function invalid(detail: string): CutoverError {
  return new CutoverError('INPUT_INVALID', { detail: `db copy: ${detail}` });
}
