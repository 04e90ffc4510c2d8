// The collections an admin leaves out of one mailbox's migration (an address book, a calendar,
// the filter scripts), on top of the project's `excludeCollections`. Stored per mailbox and read
// at the start of every groupware pass, so the first copy and every delta pass follow it.
import type { Knex } from 'knex';
import { CutoverError } from '../errors.ts';
import { SIEVE_COLLECTION } from './sieve/copy.ts';

export const MAX_EXCLUSIONS = 1000;
export const MAX_EXCLUSION_CHARS = 1000;

export async function createExclusionTable(db: Knex): Promise<void> {
  await db.schema.createTable('groupware_exclusions', (t) => {
    t.integer('mailbox_id').notNullable();
    /** A collection's href, `sieve:` for the filters, or a display name typed by the admin. */
    t.string('collection', MAX_EXCLUSION_CHARS).notNullable();
    t.string('actor', 255).notNullable();
    t.string('created_at', 32).notNullable();
    t.primary(['mailbox_id', 'collection']);
  });
}

export async function mailboxExclusions(db: Knex, mailboxId: number): Promise<string[]> {
  const rows = await db('groupware_exclusions').where({ mailbox_id: mailboxId }).orderBy('collection').select('collection') as Array<{ collection: string }>;
  return rows.map((r) => r.collection);
}

/** Trimmed, distinct, bounded: what is stored and compared. */
export function normalisedExclusions(collections: unknown[]): string[] {
  if (collections.length > MAX_EXCLUSIONS) throw new CutoverError('INPUT_INVALID', { detail: `at most ${MAX_EXCLUSIONS} collections can be left out of one mailbox` });
  const out = new Set<string>();
  for (const c of collections) {
    if (typeof c !== 'string') throw new CutoverError('INPUT_INVALID', { detail: 'a collection is named by its href, its display name or "sieve:"' });
    const name = c.normalize('NFC').trim();
    if (!name) continue;
    if (name.length > MAX_EXCLUSION_CHARS || /[\u0000-\u001f\u007f]/.test(name)) throw new CutoverError('INPUT_INVALID', { detail: `"${name.slice(0, 80)}" cannot name a collection (control characters, or over ${MAX_EXCLUSION_CHARS} characters)` });
    out.add(name);
  }
  return [...out].sort();
}

/** Replaces the mailbox's list; returns what was added and removed (empty both: nothing changed). */
export async function replaceExclusions(db: Knex, mailboxId: number, collections: string[], actor: string): Promise<{ added: string[]; removed: string[] }> {
  const wanted = normalisedExclusions(collections);
  return db.transaction(async (trx) => {
    const before = new Set(((await trx('groupware_exclusions').where({ mailbox_id: mailboxId }).select('collection')) as Array<{ collection: string }>).map((r) => r.collection));
    const added = wanted.filter((c) => !before.has(c));
    const removed = [...before].filter((c) => !wanted.includes(c)).sort();
    if (removed.length) await trx('groupware_exclusions').where({ mailbox_id: mailboxId }).whereIn('collection', removed).delete();
    const at = new Date().toISOString();
    for (const collection of added) await trx('groupware_exclusions').insert({ mailbox_id: mailboxId, collection, actor: actor.slice(0, 255), created_at: at });
    return { added, removed };
  });
}

export type ExclusionSource = 'mailbox' | 'project';

/**
 * Who leaves a collection out, if anyone: the mailbox's own list first, then the project's. A
 * collection is named by its href or its display name; the filters by `sieve:`.
 */
export function exclusionRule(project: string[], mailbox: string[]): (c: { href: string; name: string }) => ExclusionSource | undefined {
  const mine = new Set(mailbox);
  const theirs = new Set(project);
  return (c) => (mine.has(c.href) || mine.has(c.name) ? 'mailbox' : theirs.has(c.href) || theirs.has(c.name) ? 'project' : undefined);
}

export const EXCLUSION_REASONS: Record<ExclusionSource, string> = {
  mailbox: 'left out for this mailbox',
  project: 'left out in the project options',
};

export { SIEVE_COLLECTION };
