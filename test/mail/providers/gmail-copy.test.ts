import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import knex from 'knex';
import { addDomain, addMailbox, startDovecot, type DovecotInstance } from '../../../server/devservers/dovecot.ts';
import { GMAIL_STORE_FOLDERS } from '../../../server/devservers/gmail-shape.ts';
import { copyMailbox, type CopyReport } from '../../../server/mail/copy.ts';
import type { FolderPlanEntry } from '../../../server/mail/folders.ts';
import { planFromListings } from '../../../server/mail/plan.ts';
import { openStateLedger } from '../../../server/mail/state-file.ts';
import type { ImapEndpoint } from '../../../server/plugins/contract.ts';
import { imapAs, rawMessage, seed } from '../../support/mail.ts';

// A Gmail-shaped source: one message with three labels (INBOX, Work, Travel; starred), one with
// the $Important keyword, archived messages (one without Message-ID), Sent, Drafts, Spam, Trash.
let gmail: DovecotInstance;
let dest: DovecotInstance;
let stateDir: string;
const USER = 'ann@customer.test';
const multi = rawMessage({ subject: 'three labels', messageId: '<multi@gmail.test>' });

const endpoint = (inst: DovecotInstance): ImapEndpoint => ({ host: inst.host, port: inst.port, security: 'none', tlsVerify: false, auth: { user: `${USER}*${inst.masterUser}`, pass: inst.masterPassword } });

before(async () => {
  [gmail, dest] = await Promise.all([startDovecot({ gmail: true }), startDovecot()]);
  for (const inst of [gmail, dest]) {
    await addDomain(inst, 'customer.test');
    await addMailbox(inst, USER, 'pw');
  }
  stateDir = await mkdtemp(join(tmpdir(), 'cutover-gmail-state-'));
  await seed(gmail, USER, [
    { folder: 'INBOX', raw: multi, flags: ['\\Flagged'] },
    { folder: 'Work', raw: multi, flags: ['\\Flagged'] },
    { folder: 'Travel', raw: multi, flags: ['\\Flagged'] },
    { folder: 'INBOX', raw: rawMessage({ subject: 'inbox only' }), flags: ['\\Seen'] },
    { folder: 'Work', raw: rawMessage({ subject: 'important work' }), flags: ['$Important'] },
    { folder: GMAIL_STORE_FOLDERS.archive, raw: rawMessage({ subject: 'archived 1' }), flags: ['\\Seen'] },
    { folder: GMAIL_STORE_FOLDERS.archive, raw: rawMessage({ subject: 'archived, no Message-ID', messageId: null }) },
    { folder: GMAIL_STORE_FOLDERS.sent, raw: rawMessage({ subject: 'sent' }), flags: ['\\Seen'] },
    { folder: GMAIL_STORE_FOLDERS.drafts, raw: rawMessage({ subject: 'draft' }), flags: ['\\Draft'] },
    { folder: GMAIL_STORE_FOLDERS.spam, raw: rawMessage({ subject: 'spam' }) },
    { folder: GMAIL_STORE_FOLDERS.trash, raw: rawMessage({ subject: 'trash' }) },
  ]);
});

after(async () => {
  await Promise.all([gmail?.stop(), dest?.stop()]);
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

async function copy(stateFile?: string): Promise<{ report: CopyReport; plan: FolderPlanEntry[] }> {
  const state = await openStateLedger(stateFile);
  let plan: FolderPlanEntry[] = [];
  try {
    const report = await copyMailbox({
      source: endpoint(gmail), dest: endpoint(dest), ledger: state.ledger, pass: 1,
      plan: async (listed) => (plan = await planFromListings(listed, [], gmail.host, 'google')),
    });
    return { report, plan };
  } finally {
    await state.close();
  }
}

/** Subjects per destination folder. */
async function destContents(): Promise<Record<string, string[]>> {
  const client = await imapAs(dest, USER);
  try {
    const out: Record<string, string[]> = {};
    for (const folder of await client.list()) {
      const lock = await client.getMailboxLock(folder.path, { readOnly: true });
      try {
        const subjects: string[] = [];
        if (client.mailbox && client.mailbox.exists) for await (const m of client.fetch('1:*', { envelope: true })) subjects.push(m.envelope?.subject ?? '');
        out[folder.path] = subjects.sort();
      } finally {
        lock.release();
      }
    }
    return out;
  } finally {
    await client.logout();
  }
}

const EXPECTED = {
  INBOX: ['inbox only', 'three labels'],
  Work: ['important work', 'three labels'],
  Travel: ['three labels'],
  Archive: ['archived 1', 'archived, no Message-ID'],
  Sent: ['sent'],
  Drafts: ['draft'],
  Junk: ['spam'],
  Trash: ['trash'],
};

test('the plan: labels to folders, [Gmail] folders to special-use, All Mail to Archive, Important/Starred and the container left out', async () => {
  const { report, plan } = await copy(join(stateDir, 'state.sqlite'));
  const by = new Map(plan.map((e) => [e.source, e]));
  assert.equal(by.get('[Gmail]/All Mail')?.dest, 'Archive');
  assert.equal(by.get('[Gmail]/All Mail')?.archivesUnlabelled, true);
  assert.equal(by.get('[Gmail]/Sent Mail')?.dest, 'Sent');
  assert.equal(by.get('[Gmail]/Spam')?.dest, 'Junk');
  assert.equal(by.get('[Gmail]/Trash')?.dest, 'Trash');
  assert.equal(by.get('[Gmail]/Drafts')?.dest, 'Drafts');
  for (const view of ['[Gmail]/Important', '[Gmail]/Starred', '[Gmail]']) {
    assert.equal(by.get(view)?.excluded, true, view);
    assert.ok(by.get(view)?.excludedReason, view);
  }
  assert.equal(by.get('Work')?.excluded, false);
  assert.equal(report.failed, 0);
  assert.equal(report.copied, 11);
  // All Mail shows 9 messages; the 7 that another copied folder holds are on the skip list, with the folder.
  const db = knex({ client: 'sqlite3', connection: { filename: join(stateDir, 'state.sqlite') }, useNullAsDefault: true });
  try {
    const skips = await db('skips').where({ source_folder: '[Gmail]/All Mail', kind: 'excluded' }).select('reason');
    assert.equal(skips.length, 7);
    assert.ok(skips.every((row: { reason: string }) => /^also in "(INBOX|Work|Travel|\[Gmail\]\/Sent Mail|\[Gmail\]\/Drafts)": copied there, not to Archive$/.test(row.reason)), JSON.stringify(skips));
  } finally {
    await db.destroy();
  }
});

test('the destination: one copy per label folder, archived mail in Archive, nothing from the views', async () => {
  const contents = await destContents();
  for (const [folder, subjects] of Object.entries(EXPECTED)) assert.deepEqual(contents[folder], subjects, folder);
  assert.deepEqual(Object.keys(contents).sort(), Object.keys(EXPECTED).sort(), 'no [Gmail], All Mail, Important or Starred folder');
  const copies = Object.values(contents).flat().filter((s) => s === 'three labels').length;
  assert.equal(copies, 3, 'the three-label message once per label folder');
});

test('a re-run with the state adds nothing; one without it (lost ledger) adds nothing either', async () => {
  const withState = await copy(join(stateDir, 'state.sqlite'));
  assert.equal(withState.report.copied, 0);
  const fresh = await copy();
  assert.equal(fresh.report.copied, 0);
  const contents = await destContents();
  for (const [folder, subjects] of Object.entries(EXPECTED)) assert.deepEqual(contents[folder], subjects, folder);
});

test('a later pass: a new archived message goes to Archive, a new labelled one to its label only', async () => {
  await seed(gmail, USER, [
    { folder: GMAIL_STORE_FOLDERS.archive, raw: rawMessage({ subject: 'archived later' }) },
    { folder: 'Travel', raw: rawMessage({ subject: 'labelled later' }) },
  ]);
  const { report } = await copy(join(stateDir, 'state.sqlite'));
  assert.equal(report.copied, 2);
  const contents = await destContents();
  assert.deepEqual(contents.Archive, ['archived 1', 'archived later', 'archived, no Message-ID']);
  assert.deepEqual(contents.Travel, ['labelled later', 'three labels']);
});
