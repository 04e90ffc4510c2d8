import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { PlatformCapabilities, PlatformConnector } from '../../server/plugins/contract.ts';
import { renameDecision } from '../../server/workflow/situation.ts';
import type { StepContext } from '../../server/workflow/types.ts';
import { insertProject, tempDb, type TempDb } from '../db/fixtures.ts';

let temp: TempDb;
let where: { projectId: number; domainId: number };

before(async () => {
  temp = await tempDb();
  where = await insertProject(temp.db);
});
after(async () => { await temp?.close(); });

const PROVISIONING: PlatformCapabilities = { attachDomain: true, renameAccount: true, createAccount: true, resetAccount: true, listAccounts: true, masterUser: true };
const IMAP_ONLY: PlatformCapabilities = { attachDomain: false, renameAccount: false, createAccount: false, resetAccount: false, listAccounts: false, masterUser: false };

/** Plain-object connectors: the decision reads capabilities and realms only (the real-server path is test/plugins/imap/workflow.test.ts). */
function platform(capabilities: PlatformCapabilities, realm?: string): PlatformConnector {
  return { capabilities, ...(realm && { accountRealm: () => realm }) } as unknown as PlatformConnector;
}

function ctx(source: PlatformConnector, dest: PlatformConnector): StepContext {
  return {
    db: temp.db, source, dest,
    project: { id: where.projectId, source_platform_id: 1, dest_platform_id: 2 },
    domain: { id: where.domainId, name: 'example.test' },
    mailbox: { address: 'alice@example.test' },
  } as unknown as StepContext;
}

test('no rename between separate servers: Gmail (or any IMAP host) to a hoster, a hoster to Gmail, IMAP to IMAP', async () => {
  for (const [source, dest] of [
    [platform(IMAP_ONLY, 'provider:google'), platform(PROVISIONING)],
    [platform(PROVISIONING), platform(IMAP_ONLY, 'provider:google')],
    [platform(IMAP_ONLY, 'imap:imap.old.example:993'), platform(IMAP_ONLY, 'imap:imap.new.example:993')],
  ] as const) {
    const decision = await renameDecision(ctx(source, dest));
    assert.equal(decision.needed, false);
    assert.match(decision.reason, /^src-\d+ \(postfixadmin\) → dst-\d+ \(postfixadmin\): no rename needed, each keeps its own alice@example\.test during the overlap$/);
  }
});

test('a rename when both would claim the address: the same server or provider, or two provisioning platforms', async () => {
  const same = await renameDecision(ctx(platform(IMAP_ONLY, 'imap:mail.example:993'), platform(IMAP_ONLY, 'imap:mail.example:993')));
  assert.equal(same.needed, true);
  assert.match(same.reason, /hold the same accounts \(imap:mail\.example:993\): alice@example\.test must leave the address/);
  const tenant = await renameDecision(ctx(platform(IMAP_ONLY, 'provider:microsoft365'), platform(PROVISIONING, 'provider:microsoft365')));
  assert.equal(tenant.needed, true);
  const hosted = await renameDecision(ctx(platform(PROVISIONING), platform(PROVISIONING)));
  assert.equal(hosted.needed, true);
  assert.match(hosted.reason, /both provision the accounts of example\.test: the old account moves to a temporary address/);
  // A managed source that cannot rename (the legacy MX Plan) still needs it: the step is manual there.
  assert.equal((await renameDecision(ctx(platform({ ...PROVISIONING, renameAccount: false }), platform(PROVISIONING)))).needed, true);
  // A bare IMAP source and a provisioning destination on other servers: nothing to rename.
  assert.equal((await renameDecision(ctx(platform(IMAP_ONLY), platform(PROVISIONING)))).needed, false);
});
