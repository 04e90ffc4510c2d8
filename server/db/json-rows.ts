import type { Db } from './knex.ts';
import { isPostgres } from '../workflow/lease.ts';

export type JsonColumnType = 'integer' | 'bigint' | 'text';

/**
 * Rows handed to one statement as a single JSON parameter (the `?` in `from`), for writes of
 * hundreds of rows at once: knex's builders spent more CPU quoting and binding each value than the
 * database spent storing them (README: "Ledger rows in one statement"). SQLite reads the JSON with
 * json_each, PostgreSQL with json_to_recordset; `column` names a field of the row in either.
 */
export function jsonRows(db: Db, alias: string, columns: Record<string, JsonColumnType>): { from: string; column(name: string): string } {
  if (isPostgres(db)) {
    const types = Object.entries(columns).map(([name, type]) => `${name} ${type}`).join(', ');
    return { from: `json_to_recordset(?::json) AS ${alias}(${types})`, column: (name) => `${alias}.${name}` };
  }
  return { from: `json_each(?) AS ${alias}`, column: (name) => `${alias}.value ->> '${name}'` };
}
