import type { Db } from '../knex.ts';
import type { SecretBox } from '../../secrets.ts';
import { CutoverError } from '../../errors.ts';

export interface PlatformRow { id: number; name: string; plugin: string; config_sealed: string; created_at: string }

export async function insertPlatform(db: Db, box: SecretBox, name: string, plugin: string, config: unknown): Promise<number> {
  if (await db('platforms').where({ name }).first()) throw new CutoverError('PLATFORM_EXISTS', { name });
  // Platform configs carry master passwords and API keys: the whole document is sealed.
  const [row] = await db('platforms').insert({ name, plugin, config_sealed: box.seal(JSON.stringify(config)), created_at: new Date().toISOString() }).returning('id');
  return typeof row === 'object' ? row.id : row;
}

export async function platformByName(db: Db, name: string): Promise<PlatformRow> {
  const row = await db<PlatformRow>('platforms').where({ name }).first();
  if (!row) throw new CutoverError('PLATFORM_UNKNOWN', { name });
  return row;
}

export async function platformById(db: Db, id: number): Promise<PlatformRow> {
  const row = await db<PlatformRow>('platforms').where({ id }).first();
  if (!row) throw new CutoverError('PLATFORM_UNKNOWN', { name: `#${id}` });
  return row;
}

export function listPlatforms(db: Db): Promise<PlatformRow[]> {
  return db<PlatformRow>('platforms').orderBy('name');
}

/** The most connections every worker together may open to the platform's mail host (null: no limit of ours). */
export async function setPlatformConnectionLimit(db: Db, name: string, limit: number | null): Promise<void> {
  const updated = await db('platforms').where({ name }).update({ max_connections: limit });
  if (updated !== 1) throw new CutoverError('PLATFORM_UNKNOWN', { name });
}
