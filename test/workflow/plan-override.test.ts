import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FolderPlanEntry } from '../../server/mail/folders.ts';
import { applyPlanOverride, destPath, displayName, nameProblem } from '../../server/workflow/plan-override.ts';

const entry = (source: string, dest: string, extra: Partial<FolderPlanEntry> = {}): FolderPlanEntry => ({ source, dest, subscribed: true, selectable: true, excluded: false, ...extra });
const COURIER = { prefix: 'INBOX.', delimiter: '.' };

test('an admin name becomes a path of the destination: prefix, delimiter, "_" for a delimiter inside a level', () => {
  assert.equal(destPath('Old mail/Archive 2023', { prefix: '', delimiter: '/' }), 'Old mail/Archive 2023');
  assert.equal(destPath('Old mail/v1.2', COURIER), 'INBOX.Old mail.v1_2');
  assert.equal(destPath('INBOX/Sub', COURIER), 'INBOX.Sub', 'the INBOX prefix is not doubled');
  assert.equal(destPath('inbox', COURIER), 'INBOX');
  assert.equal(displayName('INBOX.Old mail.v1_2', COURIER), 'Old mail/v1_2');
});

test('the rules every name follows', () => {
  assert.equal(nameProblem('Archive', 'Old/Archive'), null);
  assert.equal(nameProblem('Archive', '   '), 'empty');
  assert.equal(nameProblem('Archive', 'a\tb'), 'control');
  assert.equal(nameProblem('Archive', 'a/../b'), 'dotLevel');
  assert.equal(nameProblem('Archive', '~root'), 'dotLevel');
  assert.equal(nameProblem('Archive', 'a/'), 'emptyLevel');
  assert.equal(nameProblem('Archive', 'Inbox'), 'inboxReserved');
  assert.equal(nameProblem('INBOX', 'INBOX'), null);
  assert.equal(nameProblem('INBOX', 'Mail'), 'inboxStays');
  assert.equal(nameProblem('Archive', 'é'.repeat(200)), null);
  assert.equal(nameProblem('Archive', 'é'.repeat(201)), 'tooLong');
});

test('the computed plan with the changes: names win, subfolders follow, collisions left by the engine get a suffix, INBOX stays', () => {
  const computed = [
    entry('INBOX', 'INBOX'), entry('INBOX.Sent', 'Sent', { specialUse: '\\Sent' }), entry('INBOX.Projects', 'Projects'),
    entry('INBOX.Projects.2024', 'Projects/2024'), entry('INBOX.Envoyés', 'Envoyés'), entry('INBOX.Junk', 'Junk'),
  ];
  const plan = applyPlanOverride(computed, {
    INBOX: { dest: 'Elsewhere' },
    'INBOX.Projects': { dest: 'Work' },
    // The admin gives "Envoyés" the name the engine gave the special-use folder: the engine's one gives way.
    'INBOX.Envoyés': { dest: 'Sent' },
    'INBOX.Junk': { excluded: true },
  }, { prefix: '', delimiter: '/' });
  assert.deepEqual(plan.map((e) => [e.source, e.dest, e.excluded]), [
    ['INBOX', 'INBOX', false],
    ['INBOX.Sent', 'Sent (2)', false],
    ['INBOX.Projects', 'Work', false],
    ['INBOX.Projects.2024', 'Work/2024', false],
    ['INBOX.Envoyés', 'Sent', false],
    ['INBOX.Junk', 'Junk', true],
  ]);
  assert.equal(new Set(plan.filter((e) => !e.excluded).map((e) => e.dest)).size, plan.filter((e) => !e.excluded).length);
});
