import { parseArgs } from 'node:util';
import type { AppContext } from '../context.ts';
import { insertUser, listUsers, setUserPassword } from '../db/repos/users.ts';
import { CutoverError } from '../errors.ts';
import { hashPassword, MIN_PASSWORD_LENGTH } from '../web/passwords.ts';
import { EXIT, type Io } from './output.ts';

/** The password comes from stdin (piped, or typed and ended with Ctrl-D), never from argv. */
async function readPassword(stdin: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stdin) text += chunk;
  const password = text.replace(/\r?\n$/, '');
  if (password.length < MIN_PASSWORD_LENGTH) throw new CutoverError('INPUT_INVALID', { detail: `the password (read from stdin) must have at least ${MIN_PASSWORD_LENGTH} characters` });
  return password;
}

export async function adminCommand(app: AppContext, argv: string[], io: Io, stdin: NodeJS.ReadableStream = process.stdin): Promise<number> {
  const { positionals } = parseArgs({ args: argv, allowPositionals: true, options: {} });
  const [sub, name] = positionals;
  if (sub === 'list') {
    for (const user of await listUsers(app.db)) io.out(`${user.name}\t${user.created_at}`);
    return EXIT.ok;
  }
  if ((sub === 'create' || sub === 'password') && name) {
    const passwordHash = await hashPassword(await readPassword(stdin));
    if (sub === 'create') await insertUser(app.db, name, passwordHash);
    else await setUserPassword(app.db, name, passwordHash);
    io.out(sub === 'create' ? `admin ${name} created` : `password of ${name} changed`);
    return EXIT.ok;
  }
  io.err('usage: cutover admin create NAME | password NAME | list   (the password is read from stdin)');
  return EXIT.usage;
}
