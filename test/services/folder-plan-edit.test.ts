import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { FolderPlanInvalid, FolderPlanLocked, saveFolderPlan, type FolderChoice } from '../../server/services/folder-plan-edit.ts';
import { folderPlanView } from '../../server/services/folder-plan-view.ts';
import { rawMessage, seed, snapshot } from '../support/mail.ts';
import { atStep, startMigration, type Migration } from '../support/mailbox-migration.ts';

const ALICE = { address: 'alice@example.test', password: 'alice-pw' };
let m: Migration;

// A Courier-style source ("INBOX." prefix, "." between levels, no special-use attributes) to a
// plain Dovecot ("/" between levels, Sent/Drafts/Junk/Trash announced).
before(async () => {
  m = await startMigration({ accounts: [ALICE], old: { prefix: 'INBOX.', separator: '.', specialUse: false } });
  const msg = (folder: string, subject: string) => ({ folder, raw: rawMessage({ subject }), flags: ['\\Seen'], date: new Date('2024-10-01T10:00:00Z') });
  await seed(m.land.old, ALICE.address, [
    msg('INBOX', 'in 1'), msg('INBOX', 'in 2'),
    msg('INBOX.Archive', 'old 1'), msg('INBOX.Archive', 'old 2'),
    msg('INBOX.Projects', 'p 1'), msg('INBOX.Projects.2024', 'p 2024'),
    msg('INBOX.Junk', 'spam 1'), msg('INBOX.Junk', 'spam 2'), msg('INBOX.Junk', 'spam 3'),
  ]);
});
after(async () => { await m?.close(); });

const choicesOf = async (): Promise<FolderChoice[]> => {
  const view = await folderPlanView(m.app.db, await m.mailbox(ALICE.address));
  return view.folders.map((f) => ({ source: f.source, excluded: f.excluded, dest: f.dest }));
};
const change = (choices: FolderChoice[], source: string, patch: Partial<FolderChoice>) => choices.map((c) => (c.source === source ? { ...c, ...patch } : c));

async function refusal(choices: FolderChoice[]): Promise<FolderPlanInvalid> {
  const id = (await m.mailbox(ALICE.address)).id;
  try {
    await saveFolderPlan(m.app, id, choices, 'web:root');
  } catch (err) {
    if (err instanceof FolderPlanInvalid) return err;
    throw err;
  }
  assert.fail('the plan was accepted');
}

test('before preflight there is nothing to edit; after it, the source folders are shown with the names the engine would give', async () => {
  const fresh = await m.mailbox(ALICE.address);
  const before = await folderPlanView(m.app.db, fresh);
  assert.deepEqual({ editable: before.editable, lock: before.lock, folders: before.folders.length }, { editable: false, lock: 'noPreflight', folders: 0 });
  await assert.rejects(saveFolderPlan(m.app, fresh.id, [], 'web:root'), (err) => err instanceof FolderPlanLocked && err.lock === 'noPreflight');

  await m.runUntil(ALICE.address, atStep('attach-domain'));
  const view = await folderPlanView(m.app.db, await m.mailbox(ALICE.address));
  assert.equal(view.editable, true);
  assert.equal(view.fixed, false);
  const bySource = Object.fromEntries(view.folders.map((f) => [f.source, f]));
  assert.deepEqual(Object.keys(bySource).sort(), ['INBOX', 'INBOX.Archive', 'INBOX.Junk', 'INBOX.Projects', 'INBOX.Projects.2024']);
  assert.equal(bySource['INBOX.Projects.2024']!.dest, 'Projects/2024', 'the prefix goes, levels are joined with /');
  assert.deepEqual([bySource['INBOX.Junk']!.specialUse, bySource['INBOX.Junk']!.messages], ['\\Junk', 3]);
  assert.ok(bySource['INBOX.Archive']!.bytes! > 0);
});

test('invalid names and collisions are refused field by field, and nothing is saved', async () => {
  const base = await choicesOf();
  const bad = change(change(change(change(change(base,
    'INBOX.Archive', { dest: '' }),
    'INBOX.Junk', { dest: 'Spam\u0007box' }),
    'INBOX', { dest: 'Inbox old' }),
    'INBOX.Projects', { dest: 'Work//2024' }),
    'INBOX.Projects.2024', { dest: 'x'.repeat(201) });
  const err = await refusal(bad);
  assert.deepEqual(err.fields.map((f) => [f.source, f.field, f.problem]).sort(), [
    ['INBOX', 'dest', 'inboxStays'],
    ['INBOX.Archive', 'dest', 'empty'],
    ['INBOX.Junk', 'dest', 'control'],
    ['INBOX.Projects', 'dest', 'emptyLevel'],
    ['INBOX.Projects.2024', 'dest', 'tooLong'],
  ]);

  const collide = await refusal(change(base, 'INBOX.Archive', { dest: 'projects' }));
  assert.deepEqual(collide.fields, [{ source: 'INBOX.Archive', field: 'dest', problem: 'collision', with: 'INBOX.Projects' }]);
  // A renamed parent carries its subfolders: "Projects" → "Work" moves "Projects/2024" onto a folder named "Work/2024".
  const carried = await refusal(change(change(base, 'INBOX.Projects', { dest: 'Work' }), 'INBOX.Archive', { dest: 'Work/2024' }));
  assert.deepEqual(carried.fields.map((f) => [f.source, f.problem, f.with]), [['INBOX.Archive', 'collision', 'INBOX.Projects.2024']]);
  assert.equal((await refusal(change(base, 'INBOX.Archive', { dest: 'INBOX' }))).fields[0]!.problem, 'inboxReserved');
  assert.equal((await refusal(change(base, 'INBOX.Archive', { dest: 'a*' }))).fields[0]!.problem, 'wildcard');
  assert.equal((await refusal([...base, { source: 'INBOX.Nope', excluded: false, dest: 'x' }])).fields[0]!.problem, 'unknownFolder');
  // Two included folders may not share a name, but an excluded one does not count.
  await saveFolderPlan(m.app, (await m.mailbox(ALICE.address)).id, change(change(base, 'INBOX.Projects', { excluded: true }), 'INBOX.Archive', { dest: 'Projects/Archive' }), 'web:root');

  const row = await m.mailbox(ALICE.address);
  assert.deepEqual(JSON.parse((await m.app.db('mailboxes').where({ id: row.id }).first()).folder_plan_override), { 'INBOX.Projects': { excluded: true }, 'INBOX.Archive': { dest: 'Projects/Archive' } });
});

test('an edited plan (one folder excluded, one renamed) is what the copy produces on the real destination', async () => {
  const id = (await m.mailbox(ALICE.address)).id;
  const base = (await choicesOf()).map((c) => ({ ...c, excluded: false }));
  const saved = await saveFolderPlan(m.app, id, change(change(base, 'INBOX.Junk', { excluded: true }), 'INBOX.Archive', { dest: ' Old mail / Archive 2023 ' }), 'web:root');
  assert.deepEqual(saved.folders.filter((f) => f.edited).map((f) => [f.source, f.dest, f.excluded]), [['INBOX.Archive', 'Old mail/Archive 2023', false], ['INBOX.Junk', 'Junk', true]]);
  const event = await m.app.db('events').where({ mailbox_id: id, outcome: 'plan-edited' }).orderBy('id', 'desc').first();
  assert.equal(event.actor, 'web:root');
  assert.match(event.message, /INBOX\.Junk excluded; INBOX\.Archive → Old mail\/Archive 2023|INBOX\.Archive → Old mail\/Archive 2023; INBOX\.Junk excluded/);

  await m.runUntil(ALICE.address, atStep('dns-cutover'));
  const dest = Object.fromEntries((await snapshot(m.land.new, ALICE.address)).map((f) => [f.path, f.messages.length]));
  assert.equal(dest['Old mail/Archive 2023'], 2, 'the renamed folder holds the archive');
  assert.equal(dest.Junk ?? 0, 0, 'the excluded folder was not copied');
  assert.equal(dest.INBOX, 2);
  assert.equal(dest.Projects, 1);
  assert.equal(dest['Projects/2024'], 1);
  assert.equal(Object.values(dest).reduce((n, c) => n + c, 0), 6);
  const row = await m.mailbox(ALICE.address);
  assert.equal(JSON.parse(row.verify_result!).clean, true, 'verify counts the excluded folder out');
  const view = await folderPlanView(m.app.db, row);
  assert.equal(view.fixed, true);
});

test('a plan edit after the copy began is refused, and so is one while a worker holds the mailbox', async () => {
  const row = await m.mailbox(ALICE.address);
  await assert.rejects(saveFolderPlan(m.app, row.id, [], 'web:root'), (err) => err instanceof FolderPlanLocked && err.lock === 'copyBegun');
  const before = (await m.app.db('mailboxes').where({ id: row.id }).first()).folder_plan;

  await m.app.db('mailboxes').where({ id: row.id }).update({ locked_by: 'elsewhere:1:x', locked_until: Date.now() + 60_000 });
  try {
    await assert.rejects(saveFolderPlan(m.app, row.id, [], 'web:root'), { code: 'MAILBOX_BUSY' });
  } finally {
    await m.app.db('mailboxes').where({ id: row.id }).update({ locked_by: null, locked_until: null });
  }
  assert.equal((await m.app.db('mailboxes').where({ id: row.id }).first()).folder_plan, before);
});
