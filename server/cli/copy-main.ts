// The entry of the `cutover copy` bundle (server/setup/build.mjs): the one-shot copy without the
// rest of the CLI, so a script that runs it once per mailbox loads and compiles only what it uses.
import { copyCommand } from './copy.ts';
import { describe, EXIT, exitCodeFor, stdio, type Io } from './output.ts';

export async function main(argv: string[], io: Io = stdio): Promise<number> {
  const [name, ...rest] = argv;
  if (name !== 'copy') {
    io.err(`the copy bundle runs "cutover copy" only, not "${name ?? ''}"`);
    return EXIT.usage;
  }
  try {
    return await copyCommand(rest, io);
  } catch (err) {
    io.err(describe(err));
    return exitCodeFor(err);
  }
}
