import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { AppContext } from '../../server/context.ts';
import { runMailboxStep } from '../../server/workflow/runner.ts';
import type { VerifyResult } from '../../server/workflow/steps/verify.ts';
import { corpusFor } from '../support/corpus.ts';
import { seed } from '../support/mail.ts';
import { oneMailboxProject, type OneMailboxProject } from '../support/workflow-project.ts';
import { DOMAIN, startLandscape, type Landscape } from '../support/platforms.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';

// Issue #12: Microsoft 365 throttling on the source side, through the workflow. The old
// platform's IMAP is reached through a proxy that answers FETCH and EXAMINE as Exchange Online
// does when it throttles; the mailbox must still end with verify clean: every message copied once.

const ADDRESS = `alice@${DOMAIN}`;
let land: Landscape;
let proxy: TcpProxy;
let app: AppContext;
let row: OneMailboxProject['row'];

before(async () => {
  land = await startLandscape({ accounts: [{ address: ADDRESS, password: 'alice-pw' }] });
  await seed(land.old, ADDRESS, corpusFor(ADDRESS).messages);
  proxy = await startTcpProxy(land.old.port);
  proxy.hideCapabilities(['LIST-STATUS', 'COMPRESS=DEFLATE', 'CONDSTORE', 'QRESYNC']);
  ({ app, row } = await oneMailboxProject(land, ADDRESS, proxy.port, 'throttled', { overlapSeconds: 0 }));
});
after(async () => {
  await app?.close();
  await proxy?.stop();
  await land?.stop();
});

test('a throttled source (FETCH and EXAMINE refused as Exchange does): the workflow waits, resumes and verifies clean', { timeout: 300_000 }, async () => {
  proxy.throttleCommands({ verbs: ['FETCH', 'EXAMINE'], times: 4, reply: 'BAD Request is throttled. Suggested Backoff Time: 500 milliseconds' });
  for (let i = 0; i < 30 && !(await row()).verify_result; i++) {
    const current = await row();
    assert.notEqual(current.state, 'failed', `${current.step}: ${current.error_message}`);
    await runMailboxStep(app, current.id, 'test-worker');
  }
  const mailbox = await row();
  assert.ok(proxy.commands.filter((c) => c.throttled).length >= 1, 'the proxy refused commands');
  const result = JSON.parse(mailbox.verify_result!) as VerifyResult;
  assert.equal(result.clean, true, mailbox.verify_result!.slice(0, 400));
  const ledger = await app.db('ledger').where({ mailbox_id: mailbox.id }).count({ n: '*' }).first();
  assert.equal(Number(ledger?.n), corpusFor(ADDRESS).messages.length);
});
