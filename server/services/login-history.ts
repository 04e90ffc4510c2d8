import type { Db } from '../db/knex.ts';

/**
 * Whether this admin logged in to the panel from this address before, per the audit trail (the
 * login route writes `login` / `admin NAME` / `from ADDRESS`). It survives restarts, unlike the
 * limiter's memory, so a hammered admin keeps their usual address after one.
 */
export async function loggedInBefore(db: Db, name: string, address: string): Promise<boolean> {
  const row = await db('audit').where({ action: 'login', target: `admin ${name}`, detail: `from ${address}` }).first('id');
  return row !== undefined;
}
