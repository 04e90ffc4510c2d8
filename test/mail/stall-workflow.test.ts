import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { AppContext } from '../../server/context.ts';
import { parseProjectOptions } from '../../server/services/projects.ts';
import { runMailboxStep } from '../../server/workflow/runner.ts';
import { defaultProjectForm, projectFormInput } from '../../server/web/models/project-new.ts';
import { startHostileImap, type HostileServer } from '../support/hostile-imap.ts';
import { hostileSeed } from '../support/hostile-imap-run.ts';
import { oneMailboxProject, type OneMailboxProject } from '../support/workflow-project.ts';
import { DOMAIN, startLandscape, type Landscape } from '../support/platforms.ts';

// Issue #12: "a connection that stops answering must fail within seconds", in the workflow too,
// with the project's own stall timeout (stallTimeoutSeconds). The old platform's IMAP server
// stops answering FETCH; the copy step must fail after the project's 3 s, not the 15 s default,
// and be retried later.

const ADDRESS = `alice@${DOMAIN}`;
let land: Landscape;
let hostile: HostileServer;
let app: AppContext;
let row: OneMailboxProject['row'];

before(async () => {
  [land, hostile] = await Promise.all([startLandscape({ accounts: [{ address: ADDRESS, password: 'alice-pw' }] }), startHostileImap(hostileSeed())]);
  hostile.setMode('stops-answering');
  ({ app, row } = await oneMailboxProject(land, ADDRESS, hostile.port, 'stall', { overlapSeconds: 0, stallTimeoutSeconds: 3 }));
});
after(async () => {
  await app?.close();
  await Promise.all([land?.stop(), hostile?.stop()]);
});

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
