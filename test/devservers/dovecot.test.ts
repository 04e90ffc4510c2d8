import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { ImapFlow } from 'imapflow';
import { addDomain, addMailbox, startDovecot, type DovecotInstance } from '../../server/devservers/dovecot.ts';

const TIMEOUT = { timeout: 30_000 };
const ALICE = 'alice@example.test';
const ALICE_PASS = 'alice-secret';
const QUOTA_BYTES = 5 * 1024 * 1024;

function client(inst: DovecotInstance, user: string, pass: string): ImapFlow {
  const c = new ImapFlow({ host: inst.host, port: inst.port, secure: false, auth: { user, pass }, logger: false });
  c.on('error', () => {}); // connection errors surface through the awaited calls
  return c;
}

async function withClient<T>(inst: DovecotInstance, user: string, pass: string, fn: (c: ImapFlow) => Promise<T>): Promise<T> {
  const c = client(inst, user, pass);
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.logout().catch(() => c.close());
  }
}

/** "State" field of /proc/<pid>/stat, or undefined once the pid is gone. */
function procState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.charAt(stat.lastIndexOf(')') + 2);
  } catch {
    return undefined;
  }
}

// Zombies count as gone: the daemonized master is reparented to pid 1, which reaps lazily here.
const running = (pid: number) => ![undefined, 'Z'].includes(procState(pid));

function childPids(parent: number): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === parent;
      } catch {
        return false;
      }
    });
}

const message = (id: string) =>
  Buffer.from(
    `From: bob@example.test\r\nTo: ${ALICE}\r\nSubject: devservers ${id}\r\nMessage-ID: <${id}@example.test>\r\nDate: Fri, 21 Nov 2025 10:00:00 +0000\r\n\r\nHello from ${id}.\r\n`,
  );

describe('startDovecot with defaults', TIMEOUT, () => {
  let inst: DovecotInstance;

  before(async () => {
    inst = await startDovecot();
    await addDomain(inst, 'example.test');
    await addMailbox(inst, ALICE, ALICE_PASS, QUOTA_BYTES);
  });
  after(() => inst?.stop());

  test('the user logs in with its password; COMPRESS=DEFLATE and QUOTA are advertised', async () => {
    await withClient(inst, ALICE, ALICE_PASS, async (c) => {
      assert.ok(c.capabilities.has('COMPRESS=DEFLATE'));
      assert.ok(c.capabilities.has('QUOTA'));
    });
  });

  test('a wrong password is rejected', async () => {
    const c = client(inst, ALICE, 'wrong');
    await assert.rejects(c.connect(), (err: Error & { authenticationFailed?: boolean }) => err.authenticationFailed === true);
    c.close();
  });

  test('APPEND to INBOX reads back byte for byte, also through the master user', async () => {
    const raw = message('append-1');
    const uid = await withClient(inst, ALICE, ALICE_PASS, async (c) => {
      const res = await c.append('INBOX', raw, ['\\Seen']);
      assert.ok(res && res.uid);
      return res.uid;
    });
    // Reading alice's message back proves the master login landed in alice's mailbox.
    await withClient(inst, `${ALICE}*${inst.masterUser}`, inst.masterPassword, async (c) => {
      const lock = await c.getMailboxLock('INBOX');
      try {
        const msg = await c.fetchOne(String(uid), { source: true, flags: true }, { uid: true });
        assert.ok(msg && msg.source);
        assert.deepEqual(msg.source, raw);
        assert.ok(msg.flags?.has('\\Seen'));
      } finally {
        lock.release();
      }
    });
  });

  test('the master password does not work without the master separator', async () => {
    const c = client(inst, ALICE, inst.masterPassword);
    await assert.rejects(c.connect());
    c.close();
  });

  test('LIST shows the special-use folders, subscribed', async () => {
    const folders = await withClient(inst, ALICE, ALICE_PASS, (c) => c.list());
    const byUse = new Map(folders.map((f) => [f.specialUse, f]));
    for (const [use, path] of [['\\Sent', 'Sent'], ['\\Drafts', 'Drafts'], ['\\Junk', 'Junk'], ['\\Trash', 'Trash']]) {
      assert.equal(byUse.get(use)?.path, path);
      assert.equal(byUse.get(use)?.subscribed, true);
    }
    assert.equal(folders[0]?.delimiter, '/');
  });

  test('the mailbox quota comes from mailbox.quota (rounded up to KiB)', async () => {
    const quota = await withClient(inst, ALICE, ALICE_PASS, (c) => c.getQuota('INBOX'));
    assert.ok(quota);
    assert.equal(quota.storage?.limit, QUOTA_BYTES);
  });

  test('the maildir is created under mailRoot as maildir says', () => {
    assert.ok(existsSync(`${inst.mailRoot}/example.test/alice/Maildir`));
  });

  test('kick() disconnects the user', async () => {
    const c = client(inst, ALICE, ALICE_PASS);
    await c.connect();
    const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
    await inst.kick(ALICE);
    await closed;
    assert.equal(c.usable, false);
  });

  test('stop() ends the master and its children and removes the dir', async () => {
    assert.ok(running(inst.pid));
    const children = childPids(inst.pid);
    assert.ok(children.length > 0);
    await inst.stop();
    assert.equal(running(inst.pid), false);
    assert.deepEqual(children.filter(running), []);
    assert.equal(existsSync(inst.dir), false);
    await inst.stop(); // idempotent
  });
});

describe('startDovecot with a Courier-style namespace', TIMEOUT, () => {
  let inst: DovecotInstance;

  before(async () => {
    inst = await startDovecot({ separator: '.', prefix: 'INBOX.' });
    await addDomain(inst, 'example.test');
    await addMailbox(inst, ALICE, ALICE_PASS);
  });
  after(() => inst?.stop());

  test('the namespace is INBOX. with delimiter "." and new folders land under it', async () => {
    await withClient(inst, ALICE, ALICE_PASS, async (c) => {
      assert.deepEqual({ prefix: c.namespace?.prefix, delimiter: c.namespace?.delimiter }, { prefix: 'INBOX.', delimiter: '.' });
      const created = await c.mailboxCreate(['Projects', '2025']);
      assert.equal(created.path, 'INBOX.Projects.2025');
      const paths = (await c.list()).map((f) => f.path);
      assert.ok(paths.includes('INBOX.Projects'));
      assert.ok(paths.includes('INBOX.Projects.2025'));
      assert.ok(paths.every((p) => p === 'INBOX' || p.startsWith('INBOX.')), paths.join(', '));
    });
  });

  test('special-use folders sit under the prefix', async () => {
    const folders = await withClient(inst, ALICE, ALICE_PASS, (c) => c.list());
    assert.equal(folders.find((f) => f.specialUse === '\\Sent')?.path, 'INBOX.Sent');
    assert.equal(folders.find((f) => f.specialUse === '\\Trash')?.path, 'INBOX.Trash');
  });
});

describe('startDovecot without special-use folders', TIMEOUT, () => {
  test('only INBOX exists for a new user', async () => {
    const inst = await startDovecot({ specialUse: false });
    try {
      await addDomain(inst, 'example.test');
      await addMailbox(inst, ALICE, ALICE_PASS);
      const paths = await withClient(inst, ALICE, ALICE_PASS, async (c) => (await c.list()).map((f) => f.path));
      assert.deepEqual(paths, ['INBOX']);
    } finally {
      await inst.stop();
    }
  });
});
