// The per-mailbox exclusion list's rules, and migration 016 moving the old `collections` lists out
// of folder-plan overrides (where a folder named "collections" would have collided with them).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import knexFactory from 'knex';
import { up } from '../../server/db/migrations/016_groupware_exclusions.ts';
import { exclusionRule, mailboxExclusions, normalisedExclusions, replaceExclusions } from '../../server/groupware/exclusions.ts';

test('names are trimmed, made distinct and bounded; control characters and non-strings are refused', () => {
  assert.deepEqual(normalisedExclusions([' Perso ', 'Perso', '', 'sieve:', '/alice/work/']), ['/alice/work/', 'Perso', 'sieve:']);
  assert.throws(() => normalisedExclusions(['bad\u0001']), /cannot name a collection/);
  assert.throws(() => normalisedExclusions(['x'.repeat(1001)]), /over 1000 characters/);
  assert.throws(() => normalisedExclusions([42]), /named by its href/);
  assert.throws(() => normalisedExclusions(Array.from({ length: 1001 }, (_, i) => `c${i}`)), /at most 1000/);
});

test('the mailbox\'s own list wins over the project\'s; a collection is matched by href or display name', () => {
  const rule = exclusionRule(['Brouillon', 'sieve:'], ['/alice/perso/', 'sieve:']);
  assert.equal(rule({ href: '/alice/perso/', name: 'Perso' }), 'mailbox');
  assert.equal(rule({ href: 'sieve:', name: 'Mail filters' }), 'mailbox');
  assert.equal(rule({ href: '/alice/b/', name: 'Brouillon' }), 'project');
  assert.equal(rule({ href: '/alice/work/', name: 'Travail' }), undefined);
});

test('migration 016 moves the override\'s collections list into its table and leaves the folders alone; replace() reports what changed', async () => {
  const db = knexFactory({ client: 'sqlite3', connection: { filename: ':memory:' }, useNullAsDefault: true });
  try {
    await db.schema.createTable('mailboxes', (t) => { t.integer('id').primary(); t.text('folder_plan_override'); });
    await db('mailboxes').insert([
      { id: 1, folder_plan_override: JSON.stringify({ collections: ['Perso', ' sieve: '], Archive: { excluded: true } }) },
      { id: 2, folder_plan_override: JSON.stringify({ collections: ['Perso'] }) },
      { id: 3, folder_plan_override: JSON.stringify({ collections: { dest: 'Collections' } }) },
      { id: 4, folder_plan_override: null },
    ]);
    await up(db);
    assert.deepEqual(await mailboxExclusions(db, 1), ['Perso', 'sieve:']);
    assert.deepEqual(await mailboxExclusions(db, 2), ['Perso']);
    assert.deepEqual(await mailboxExclusions(db, 3), [], 'a folder named "collections" is a folder');
    const overrides = await db('mailboxes').orderBy('id').select('folder_plan_override');
    assert.deepEqual(overrides.map((r) => r.folder_plan_override), [JSON.stringify({ Archive: { excluded: true } }), null, JSON.stringify({ collections: { dest: 'Collections' } }), null]);
    assert.deepEqual(await replaceExclusions(db, 1, ['sieve:', 'Travail'], 'web:root'), { added: ['Travail'], removed: ['Perso'] });
    assert.deepEqual(await replaceExclusions(db, 1, ['Travail', 'sieve:'], 'web:root'), { added: [], removed: [] });
    assert.deepEqual(await mailboxExclusions(db, 1), ['Travail', 'sieve:'].sort());
  } finally {
    await db.destroy();
  }
});
