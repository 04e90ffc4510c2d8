import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fleetShare } from '../../server/workflow/pass-pace.ts';
import { insertMailbox, insertProject, tempDb, type TempDb } from '../db/fixtures.ts';

let t: TempDb;
before(async () => { t = await tempDb(); });
after(async () => { await t?.close(); });

test('a bandwidth cap is shared by the workers holding a lease on a mailbox it covers, not granted to each', async () => {
  const now = Date.now();
  const p = await insertProject(t.db);
  const project = await t.db('projects').where({ id: p.projectId }).first();
  assert.equal(await fleetShare(t.db, { projectId: p.projectId }, now), 1, 'a worker alone (or none yet) takes the whole cap');
  await insertMailbox(t.db, p, 'a@example.test', { locked_by: 'host-a:1:x', locked_until: now + 20_000 });
  await insertMailbox(t.db, p, 'b@example.test', { locked_by: 'host-a:1:x', locked_until: now + 20_000 });
  await insertMailbox(t.db, p, 'c@example.test', { locked_by: 'host-b:7:y', locked_until: now + 20_000 });
  await insertMailbox(t.db, p, 'd@example.test', { locked_by: 'host-c:9:z', locked_until: now - 1 });
  assert.equal(await fleetShare(t.db, { projectId: p.projectId }, now), 2, 'two live holders; an expired lease does not count');
  const other = await insertProject(t.db);
  await t.db('projects').where({ id: other.projectId }).update({ source_platform_id: project.source_platform_id });
  await insertMailbox(t.db, other, 'e@example.test', { locked_by: 'host-d:3:w', locked_until: now + 20_000 });
  assert.equal(await fleetShare(t.db, { sourcePlatformId: project.source_platform_id }, now), 3, 'the source host\'s cap counts every project reading from it');
  assert.equal(await fleetShare(t.db, { projectId: p.projectId }, now), 2, 'the project\'s cap only its own');
});
