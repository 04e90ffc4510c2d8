import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { holdsIdle, installHostGate, openWithinHostCap, releaseHostSlot, type HostGate } from '../../server/mail/host-slots.ts';
import { Pool } from '../../server/mail/pool.ts';

after(() => installHostGate(undefined));

// One slot for the host; a waiter polls, and says it waits (as the database gate does).
function oneSlotGate(): HostGate & { waits: number } {
  let free = true;
  const gate = {
    waits: 0,
    async acquire(_host: string, _port: number, waiting?: () => Promise<void>) {
      for (;;) {
        if (free) { free = false; return async () => { free = true; }; }
        gate.waits++;
        await waiting?.();
        await new Promise((r) => setTimeout(r, 5));
        if (gate.waits > 200) throw new Error('waited for ever');
      }
    },
  };
  return gate;
}

const endpoint = { host: 'mail.example.test', port: 993 };
function pool(): Pool<{ id: number }> {
  let n = 0;
  const p: Pool<{ id: number }> = new Pool({
    open: () => openWithinHostCap(endpoint, async () => ({ id: ++n })),
    usable: () => true,
    destroy: (item) => releaseHostSlot(item),
    close: async (item) => releaseHostSlot(item),
  }, 4);
  return p;
}

test('a pool waiting for a host slot gets the one another pool of this process keeps idle', async () => {
  const gate = oneSlotGate();
  installHostGate(gate);
  const listing = pool();
  const forget = holdsIdle(endpoint, () => listing.closeIdle());
  await listing.use(async () => undefined); // its connection now rests idle, holding the only slot
  const setup = pool();
  const got = await setup.use(async (item) => item.id);
  assert.equal(got, 1);
  assert.ok(gate.waits >= 1, 'the second pool had to wait');
  forget();
  // Unregistered: nothing closes the idle connection any more, so the wait never ends.
  const third = pool();
  await setup.use(async () => undefined);
  const idleHolder = setup; // keeps its idle connection, not registered
  await assert.rejects(third.use(async () => undefined), /waited for ever/);
  await idleHolder.close();
});
