import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../db/knex.ts';
import { CutoverError } from '../errors.ts';

/**
 * API tokens for scripts. A token is 32 random bytes (base64url) behind a recognisable prefix,
 * so secret scanners spot a leaked one. Only its SHA-256 is stored: a copy of the database gives
 * nobody a working token. A plain hash suffices (no argon2): the secret has 256 bits of entropy,
 * nothing to guess.
 */
export const TOKEN_PREFIX = 'cutover_';
export const TOKEN_NAME = /^[A-Za-z0-9._-]{1,64}$/;

export interface TokenLine { id: number; name: string; user: string; created_at: string; last_used_at: string | null }
export interface TokenOwner { tokenId: number; tokenName: string; userId: number; userName: string }

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Creates a token for an admin and returns it: the only time it exists in clear. */
export async function createToken(db: Db, userName: string, name: string): Promise<{ id: number; token: string }> {
  if (!TOKEN_NAME.test(name)) throw new CutoverError('INPUT_INVALID', { detail: `"${name}" is not a valid token name (1 to 64 letters, digits, . _ -)` });
  const user = await db('users').where({ name: userName }).first('id');
  if (!user) throw new CutoverError('INPUT_INVALID', { detail: `no admin named "${userName}"` });
  const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
  const [row] = await db('api_tokens').insert({ user_id: user.id, name, token_hash: hashToken(token), created_at: new Date().toISOString() }).returning('id');
  return { id: typeof row === 'object' ? Number((row as { id: number }).id) : Number(row), token };
}

function tokenLines(db: Db) {
  return db('api_tokens as t').join('users as u', 'u.id', 't.user_id').select('t.id', 't.name', 'u.name as user', 't.created_at', 't.last_used_at');
}

export function listTokens(db: Db): Promise<TokenLine[]> {
  return tokenLines(db).orderBy('t.id');
}

/** Revoking deletes the row: the hash is all there was, so nothing can bring the token back. */
export async function revokeToken(db: Db, id: number): Promise<TokenLine> {
  const line: TokenLine | undefined = await tokenLines(db).where('t.id', id).first();
  if (!line) throw new CutoverError('INPUT_INVALID', { detail: `no API token #${id}` });
  await db('api_tokens').where({ id }).delete();
  return line;
}

/** The admin a presented token acts for, or undefined; each use stamps last_used_at. */
export async function authenticateToken(db: Db, token: string): Promise<TokenOwner | undefined> {
  if (!token.startsWith(TOKEN_PREFIX) || token.length > 200) return undefined;
  const row: { id: number; name: string; user_id: number; user: string } | undefined = await db('api_tokens as t').join('users as u', 'u.id', 't.user_id')
    .where('t.token_hash', hashToken(token)).first('t.id', 't.name', 't.user_id', 'u.name as user');
  if (!row) return undefined;
  await db('api_tokens').where({ id: row.id }).update({ last_used_at: new Date().toISOString() });
  return { tokenId: row.id, tokenName: row.name, userId: row.user_id, userName: row.user };
}
