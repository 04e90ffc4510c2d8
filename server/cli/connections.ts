import { setPlatformConnectionLimit, listPlatforms } from '../db/repos/platforms.ts';
import type { AppContext } from '../context.ts';
import { CutoverError } from '../errors.ts';
import { EXIT, parsePositiveInt, type Io } from './output.ts';

/** `cutover connections [PLATFORM N|off]`: the per-host connection limit of a platform, held across every worker. */
export async function connectionsCommand(app: AppContext, argv: string[], io: Io): Promise<number> {
  const [name, value] = argv;
  if (name !== undefined) {
    if (value === undefined) throw new CutoverError('INPUT_INVALID', { detail: 'usage: cutover connections PLATFORM N|off' });
    await setPlatformConnectionLimit(app.db, name, value === 'off' ? null : parsePositiveInt(value, 'limit')!);
  }
  for (const p of await listPlatforms(app.db)) {
    const limit = (p as { max_connections?: number | null }).max_connections;
    io.out(`${p.name}\t${limit ? `at most ${limit} connections per host, all workers together` : 'no limit'}`);
  }
  return EXIT.ok;
}
