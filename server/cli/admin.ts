import { parseArgs } from 'node:util';
import type { AppContext } from '../context.ts';
import { recordAudit } from '../db/repos/audit.ts';
import { insertUser, listUsers, setUserPassword } from '../db/repos/users.ts';
import { CutoverError } from '../errors.ts';
import { createToken, listTokens, revokeToken } from '../services/tokens.ts';
import { hashPassword, MIN_PASSWORD_LENGTH } from '../web/passwords.ts';
import { actor, EXIT, type Io } from './output.ts';

const USAGE = 'usage: cutover admin create NAME | password NAME | list   (the password is read from stdin)\n'
  + '       cutover admin token create NAME --user ADMIN | token list | token revoke ID   API tokens for scripts';

/** The password comes from stdin (piped, or typed and ended with Ctrl-D), never from argv. */
async function readPassword(stdin: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stdin) text += chunk;
  const password = text.replace(/\r?\n$/, '');
  if (password.length < MIN_PASSWORD_LENGTH) throw new CutoverError('INPUT_INVALID', { detail: `the password (read from stdin) must have at least ${MIN_PASSWORD_LENGTH} characters` });
  return password;
}

/**
 * API tokens. `create` prints the token alone on stdout (so `TOKEN=$(cutover admin token create …)`
 * works) and the notice on stderr; it is the only time the token exists in clear.
 */
async function tokenCommand(app: AppContext, args: string[], user: string | undefined, io: Io): Promise<number> {
  const [sub, arg] = args;
  if (sub === 'list' && !arg) {
    for (const t of await listTokens(app.db)) io.out(`${t.id}\t${t.name}\t${t.user}\tcreated ${t.created_at}\tlast used ${t.last_used_at ?? 'never'}`);
    return EXIT.ok;
  }
  if (sub === 'create' && arg) {
    if (!user) throw new CutoverError('INPUT_INVALID', { detail: 'name the admin the token acts for: --user ADMIN' });
    const { id, token } = await createToken(app.db, user, arg);
    await recordAudit(app.db, { actor: actor(), action: 'token.create', target: `token #${id} ${arg}`, detail: `for ${user}` });
    io.out(token);
    io.err(`token #${id} "${arg}" created for ${user}: shown only this once (only a hash is kept). Scripts send it as  Authorization: Bearer TOKEN  to /api/…`);
    return EXIT.ok;
  }
  if (sub === 'revoke' && arg) {
    if (!/^\d+$/.test(arg)) throw new CutoverError('INPUT_INVALID', { detail: `"${arg}" is not a token id (see cutover admin token list)` });
    const line = await revokeToken(app.db, Number(arg));
    await recordAudit(app.db, { actor: actor(), action: 'token.revoke', target: `token #${line.id} ${line.name}`, detail: `of ${line.user}` });
    io.out(`token #${line.id} "${line.name}" of ${line.user} revoked`);
    return EXIT.ok;
  }
  io.err(USAGE);
  return EXIT.usage;
}

export async function adminCommand(app: AppContext, argv: string[], io: Io, stdin: NodeJS.ReadableStream = process.stdin): Promise<number> {
  const { positionals, values } = parseArgs({ args: argv, allowPositionals: true, options: { user: { type: 'string' } } });
  const [sub, name] = positionals;
  if (sub === 'token') return tokenCommand(app, positionals.slice(1), values.user, io);
  if (sub === 'list') {
    for (const user of await listUsers(app.db)) io.out(`${user.name}\t${user.created_at}`);
    return EXIT.ok;
  }
  if ((sub === 'create' || sub === 'password') && name) {
    const passwordHash = await hashPassword(await readPassword(stdin));
    if (sub === 'create') await insertUser(app.db, name, passwordHash);
    else await setUserPassword(app.db, name, passwordHash);
    await recordAudit(app.db, { actor: actor(), action: sub === 'create' ? 'admin.create' : 'admin.password', target: `admin ${name}` });
    io.out(sub === 'create' ? `admin ${name} created` : `password of ${name} changed`);
    return EXIT.ok;
  }
  io.err(USAGE);
  return EXIT.usage;
}
