import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { openContext, type AppContext } from '../../server/context.ts';
import type { MailboxRow } from '../../server/db/repos/mailboxes.ts';
import { insertPlatform } from '../../server/db/repos/platforms.ts';
import { confirmDomainStep } from '../../server/services/actions.ts';
import { createDomainMigration, parseProjectOptions } from '../../server/services/projects.ts';
import { runMailboxStep } from '../../server/workflow/runner.ts';
import { defaultProjectForm, projectFormInput } from '../../server/web/models/project-new.ts';
import { tempDataDir } from '../support/cli.ts';
import { startHostileImap, type HostileServer } from '../support/hostile-imap.ts';
import { hostileSeed } from '../support/hostile-imap-run.ts';
import { DOMAIN, NEW_MX, OLD_MX, startLandscape, writePlatformConfig, type Landscape } from '../support/platforms.ts';

// Issue #12: "a connection that stops answering must fail within seconds", in the workflow too,
// with the project's own stall timeout (stallTimeoutSeconds). The old platform's IMAP server
// stops answering FETCH; the copy step must fail after the project's 3 s, not the 15 s default,
// and be retried later.

const ADDRESS = `alice@${DOMAIN}`;
let land: Landscape;
let hostile: HostileServer;
let app: AppContext;
let projectId: number;

before(async () => {
  [land, hostile] = await Promise.all([startLandscape({ accounts: [{ address: ADDRESS, password: 'alice-pw' }] }), startHostileImap(hostileSeed())]);
  hostile.setMode('stops-answering');
  const dataDir = tempDataDir();
  app = await openContext({ CUTOVER_DATA_DIR: dataDir, CUTOVER_LOG_LEVEL: 'silent' });
  const configs = [['old', writePlatformConfig(land.old, dataDir, 'old', OLD_MX, { port: hostile.port })], ['new', writePlatformConfig(land.new, dataDir, 'new', NEW_MX)]] as const;
  for (const [name, file] of configs) await insertPlatform(app.db, app.box, name, 'postfixadmin', app.plugins.parseConfig('postfixadmin', JSON.parse(readFileSync(file, 'utf8'))));
  ({ projectId } = await createDomainMigration(app, { from: 'old', to: 'new', domain: DOMAIN, name: 'stall', options: { overlapSeconds: 0, stallTimeoutSeconds: 3 }, actor: 'test' }));
  const domain = await app.db('domains').where({ project_id: projectId }).first();
  await confirmDomainStep(app, projectId, domain.id, 'dns-cutover', 'test');
});
after(async () => {
  await app?.close();
  await Promise.all([land?.stop(), hostile?.stop()]);
});

const row = async () => app.db<MailboxRow>('mailboxes').where({ project_id: projectId, address: ADDRESS }).first() as Promise<MailboxRow>;

test('stallTimeoutSeconds is validated with limits, 15 s when not given', () => {
  assert.equal(parseProjectOptions({}).stallTimeoutSeconds, 15);
  assert.equal(parseProjectOptions({ stallTimeoutSeconds: 30 }).stallTimeoutSeconds, 30);
  for (const bad of [0, 2, 3601, 1.5, '15']) assert.throws(() => parseProjectOptions({ stallTimeoutSeconds: bad }), /stallTimeoutSeconds/, String(bad));
  // The new-project form shows the default and takes a duration.
  const form = { ...defaultProjectForm(), name: 'p', source: 'a', destination: 'b' };
  assert.equal(form.stallTimeout, '15s');
  const t = (key: string) => key;
  assert.equal(projectFormInput({ ...form, stallTimeout: '1m' }, t).options.stallTimeoutSeconds, 60);
  assert.equal(projectFormInput({ ...form, stallTimeout: '1s' }, t).errors.stallTimeout, 'projectNew.error.stallTimeout');
  assert.equal(projectFormInput({ ...form, stallTimeout: '2h' }, t).errors.stallTimeout, 'projectNew.error.stallTimeout');
});

test('a source that stops answering fails the copy step after the project\'s stall timeout, and the step is retried', { timeout: 180_000 }, async () => {
  let stalledAfterMs = 0;
  let mailbox = await row();
  for (let i = 0; i < 20 && !stalledAfterMs; i++) {
    assert.notEqual(mailbox.state, 'failed', `${mailbox.step}: ${mailbox.error_message}`);
    const started = Date.now();
    await runMailboxStep(app, mailbox.id, 'test-worker');
    mailbox = await row();
    if (mailbox.error_code === 'IMAP_STALLED') stalledAfterMs = Date.now() - started;
  }
  assert.ok(stalledAfterMs > 0, `the copy never stalled: ${mailbox.step} ${mailbox.state} ${mailbox.error_message}`);
  assert.match(mailbox.error_message ?? '', /no progress for 3 s/);
  assert.equal(mailbox.state, 'retrying');
  // 3 s of silence, plus the logins and listing before it; the 15 s default would not fit.
  assert.ok(stalledAfterMs < 14_000, `the step failed ${stalledAfterMs} ms after it started`);
});
