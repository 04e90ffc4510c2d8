import { parseArgs } from 'node:util';
import type { AppContext } from '../context.ts';
import { copyDatabase } from '../db/copy.ts';
import { connect, migrate } from '../db/knex.ts';
import { CutoverError } from '../errors.ts';
import { EXIT, type Io } from './output.ts';

/**
 * `cutover db copy --to postgres://…`: this installation's SQLite database into an empty
 * PostgreSQL one (every table, the ledger, the sealed secrets), counts checked. The URL may also
 * come from CUTOVER_COPY_TO, so that a password in it stays off the command line.
 */
export async function dbCommand(app: AppContext, argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'copy') throw new CutoverError('INPUT_INVALID', { detail: 'usage: cutover db copy --to postgres://USER@HOST/DB (or CUTOVER_COPY_TO=…)' });
  const { values } = parseArgs({ args: rest, options: { to: { type: 'string' } } });
  const url = values.to ?? process.env.CUTOVER_COPY_TO;
  if (!url || !/^postgres(ql)?:\/\//.test(url)) throw new CutoverError('INPUT_INVALID', { detail: 'db copy: --to postgres://USER@HOST/DB is required' });
  if (/^postgres(ql)?:\/\/[^/@]*:[^/@]*@/.test(values.to ?? '')) io.err('warning: a password on the command line is visible to other users of this machine; prefer CUTOVER_COPY_TO or ~/.pgpass');
  const target = connect(app.config.dataDir, url);
  try {
    await migrate(target);
    const counts = await copyDatabase(app.db, target, (table, rows) => io.err(`copied ${table}: ${rows} rows`));
    for (const c of counts) io.out(`${c.table}\t${c.source}\t${c.target}`);
    io.out(`copied ${counts.length} tables, ${counts.reduce((n, c) => n + c.target, 0)} rows, counts checked. Start cutover with DATABASE_URL set to the new database and the same secret key (CUTOVER_SECRET_KEY or ${app.config.dataDir}/secret.key).`);
  } finally {
    await target.destroy();
  }
  return EXIT.ok;
}
