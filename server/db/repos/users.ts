import type { Db } from '../knex.ts';
import { CutoverError } from '../../errors.ts';

export interface UserRow { id: number; name: string; password_hash: string; language: string | null; time_zone?: string | null; created_at: string }

export const USER_NAME = /^[a-z0-9][a-z0-9._@-]{0,63}$/;

export async function insertUser(db: Db, name: string, passwordHash: string): Promise<number> {
  if (!USER_NAME.test(name)) throw new CutoverError('INPUT_INVALID', { detail: `"${name}" is not a valid admin name (lower-case letters, digits, . _ @ -; at most 64)` });
  if (await userByName(db, name)) throw new CutoverError('INPUT_INVALID', { detail: `an admin named "${name}" already exists` });
  const [row] = await db('users').insert({ name, password_hash: passwordHash, created_at: new Date().toISOString() }).returning('id');
  return typeof row === 'object' ? (row as { id: number }).id : Number(row);
}

export function userByName(db: Db, name: string): Promise<UserRow | undefined> {
  return db<UserRow>('users').where({ name }).first();
}

export function userById(db: Db, id: number | undefined): Promise<UserRow | undefined> {
  return id === undefined ? Promise.resolve(undefined) : db<UserRow>('users').where({ id }).first();
}

export async function setUserPassword(db: Db, name: string, passwordHash: string): Promise<void> {
  const changed = await db('users').where({ name }).update({ password_hash: passwordHash });
  if (!changed) throw new CutoverError('INPUT_INVALID', { detail: `no admin named "${name}"` });
}

export async function setUserLanguage(db: Db, id: number, language: string): Promise<void> {
  await db('users').where({ id }).update({ language });
}

/** The admin's own language and time zone (null: the server's zone). */
export async function setUserSettings(db: Db, id: number, settings: { language: string; time_zone: string | null }): Promise<void> {
  await db('users').where({ id }).update(settings);
}

export function listUsers(db: Db): Promise<Array<Pick<UserRow, 'id' | 'name' | 'created_at'>>> {
  return db<UserRow>('users').select('id', 'name', 'created_at').orderBy('name');
}

export async function countUsers(db: Db): Promise<number> {
  const [row] = await db('users').count({ n: '*' });
  return Number(row?.n ?? 0);
}
