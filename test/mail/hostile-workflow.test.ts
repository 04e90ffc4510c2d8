import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { AppContext } from '../../server/context.ts';
import { runMailboxStep } from '../../server/workflow/runner.ts';
import type { VerifyResult } from '../../server/workflow/steps/verify.ts';
import { BAD_KEYWORD, startHostileImap, type HostileServer } from '../support/hostile-imap.ts';
import { hostileSeed } from '../support/hostile-imap-run.ts';
import { oneMailboxProject, type OneMailboxProject } from '../support/workflow-project.ts';
import { DOMAIN, startLandscape, type Landscape } from '../support/platforms.ts';

// Issue #11, item 1, through the workflow: the old platform's IMAP server sends, for one message
// per folder, a FETCH line imapflow cannot parse. verify used to say "clean" with 2 source
// messages where the server had announced 3; it must count the announced set.

const ADDRESS = `alice@${DOMAIN}`;
let land: Landscape;
let hostile: HostileServer;
let app: AppContext;
let row: OneMailboxProject['row'];

before(async () => {
  [land, hostile] = await Promise.all([startLandscape({ accounts: [{ address: ADDRESS, password: 'alice-pw' }] }), startHostileImap(hostileSeed())]);
  hostile.setMode('bad-keyword');
  ({ app, row } = await oneMailboxProject(land, ADDRESS, hostile.port, 'hostile', { overlapSeconds: 0 }));
});
after(async () => {
  await app?.close();
  await Promise.all([land?.stop(), hostile?.stop()]);
});

test('verify compares with the announced set: 2 of 3 readable per folder is not clean, and the skip list quotes the server', { timeout: 180_000 }, async () => {
  for (let i = 0; i < 20 && !(await row()).verify_result; i++) {
    const current = await row();
    assert.notEqual(current.state, 'failed', `${current.step}: ${current.error_message}`);
    await runMailboxStep(app, current.id, 'test-worker');
  }
  const mailbox = await row();
  const result = JSON.parse(mailbox.verify_result!) as VerifyResult;
  assert.equal(result.clean, false, `not clean: one announced message per folder was never copied (${mailbox.verify_result!.slice(0, 300)})`);
  assert.equal(result.folders.length, 13);
  for (const folder of result.folders) {
    assert.equal(folder.sourceMessages, 3, `${folder.source}: the server announced 3`);
    assert.deepEqual(folder.notCopied, [2], folder.source);
  }
  const skips = await app.db('skips').where({ mailbox_id: mailbox.id });
  assert.equal(skips.length, 13);
  for (const skip of skips) assert.ok(String(skip.reason).includes(BAD_KEYWORD), `the server's line is quoted: ${skip.reason}`);
  const events = await app.db('events').where({ mailbox_id: mailbox.id }).orderBy('id');
  const verify = events.filter((e) => e.step === 'verify').map((e) => String(e.message)).join('\n');
  assert.match(verify, /13 messages unaccounted for/);
  assert.doesNotMatch(verify, /clean/);
});
