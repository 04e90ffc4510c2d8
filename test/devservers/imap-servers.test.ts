import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ImapFlow } from 'imapflow';
import { startCourier } from '../../server/devservers/courier.ts';
import { startCyrus } from '../../server/devservers/cyrus.ts';
import { startImap4d } from '../../server/devservers/imap4d.ts';
import type { ImapServerInstance } from '../../server/devservers/imap-server.ts';

// Zombies count as gone: the group leader is reaped by whoever its parent is.
const running = (pid: number) => { try { return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]![0] !== 'Z'; } catch { return false; } };

async function login(inst: ImapServerInstance, auth: { user: string; pass: string; authzid?: string }): Promise<ImapFlow> {
  const client = new ImapFlow({ host: inst.host, port: inst.port, secure: false, logger: false, disableAutoIdle: true, auth: { ...auth, ...(auth.authzid && { loginMethod: 'AUTH=PLAIN' }) } });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

async function messages(client: ImapFlow): Promise<number | undefined> {
  const status = await client.status('INBOX', { messages: true });
  return status ? status.messages : undefined;
}

for (const [name, start] of [['Cyrus', startCyrus], ['Courier', startCourier], ['GNU imap4d', startImap4d]] as const) {
  test(`${name}: a private instance on 127.0.0.1 takes a user with a password, refuses a wrong one, and stops by its pid`, { timeout: 60_000 }, async () => {
    const inst = await start();
    try {
      await inst.addUser('alice@example.test', 'alice-pw');
      const client = await login(inst, { user: 'alice@example.test', pass: 'alice-pw' });
      const appended = await client.append('INBOX', 'Subject: hi\r\n\r\nbody\r\n', ['\\Seen']);
      assert.ok(appended && appended.destination === 'INBOX');
      assert.equal(await messages(client), 1);
      await client.logout();
      await assert.rejects(login(inst, { user: 'alice@example.test', pass: 'wrong' }));
      if (inst.admin) {
        // Cyrus: the admin acts for the user through SASL PLAIN's authorisation identity.
        const admin = await login(inst, { user: inst.admin.user, pass: inst.admin.password, authzid: 'alice@example.test' });
        assert.equal(await messages(admin), 1);
        await admin.logout();
      }
    } finally {
      await inst.stop();
    }
    assert.equal(running(inst.pid), false, 'the server process is gone');
    assert.equal(existsSync(inst.dir), false, 'its directory is removed');
  });
}
