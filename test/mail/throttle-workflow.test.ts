import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { openContext, type AppContext } from '../../server/context.ts';
import type { MailboxRow } from '../../server/db/repos/mailboxes.ts';
import { insertPlatform } from '../../server/db/repos/platforms.ts';
import { confirmDomainStep } from '../../server/services/actions.ts';
import { createDomainMigration } from '../../server/services/projects.ts';
import { runMailboxStep } from '../../server/workflow/runner.ts';
import type { VerifyResult } from '../../server/workflow/steps/verify.ts';
import { tempDataDir } from '../support/cli.ts';
import { corpusFor } from '../support/corpus.ts';
import { seed } from '../support/mail.ts';
import { DOMAIN, NEW_MX, OLD_MX, startLandscape, writePlatformConfig, type Landscape } from '../support/platforms.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';

// Issue #12: Microsoft 365 throttling on the source side, through the workflow. The old
// platform's IMAP is reached through a proxy that answers FETCH and EXAMINE as Exchange Online
// does when it throttles; the mailbox must still end with verify clean: every message copied once.

const ADDRESS = `alice@${DOMAIN}`;
let land: Landscape;
let proxy: TcpProxy;
let app: AppContext;
let projectId: number;

before(async () => {
  land = await startLandscape({ accounts: [{ address: ADDRESS, password: 'alice-pw' }] });
  await seed(land.old, ADDRESS, corpusFor(ADDRESS).messages);
  proxy = await startTcpProxy(land.old.port);
  proxy.hideCapabilities(['LIST-STATUS', 'COMPRESS=DEFLATE', 'CONDSTORE', 'QRESYNC']);
  const dataDir = tempDataDir();
  app = await openContext({ CUTOVER_DATA_DIR: dataDir, CUTOVER_LOG_LEVEL: 'silent' });
  const configs = [['old', writePlatformConfig(land.old, dataDir, 'old', OLD_MX, { port: proxy.port })], ['new', writePlatformConfig(land.new, dataDir, 'new', NEW_MX)]] as const;
  for (const [name, file] of configs) await insertPlatform(app.db, app.box, name, 'postfixadmin', app.plugins.parseConfig('postfixadmin', JSON.parse(readFileSync(file, 'utf8'))));
  ({ projectId } = await createDomainMigration(app, { from: 'old', to: 'new', domain: DOMAIN, name: 'throttled', options: { overlapSeconds: 0 }, actor: 'test' }));
  const domain = await app.db('domains').where({ project_id: projectId }).first();
  await confirmDomainStep(app, projectId, domain.id, 'dns-cutover', 'test');
});
after(async () => {
  await app?.close();
  await proxy?.stop();
  await land?.stop();
});

const row = async () => app.db<MailboxRow>('mailboxes').where({ project_id: projectId, address: ADDRESS }).first() as Promise<MailboxRow>;

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
