import { createHash } from 'node:crypto';
import { ImapFlow } from 'imapflow';
import type { DovecotInstance } from '../../server/devservers/dovecot.ts';

// Fixtures talk to the self-signed test servers they started themselves, hence no verification.
export async function imapAs(inst: DovecotInstance, address: string, password?: string): Promise<ImapFlow> {
  const client = new ImapFlow({
    host: inst.host, port: inst.port, secure: false, logger: false, disableAutoIdle: true, tls: { rejectUnauthorized: false },
    auth: password ? { user: address, pass: password } : { user: `${address}*${inst.masterUser}`, pass: inst.masterPassword },
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    client.close();
    throw err;
  }
  return client;
}

export type { SeedMessage } from '../../server/devservers/seed.ts';
export { appendMessages as seed } from '../../server/devservers/seed.ts';

let counter = 0;
export function rawMessage(opts: { subject: string; messageId?: string | null; body?: string; from?: string; date?: string }): string {
  counter++;
  const headers = [
    `From: ${opts.from ?? 'Sender <sender@example.org>'}`,
    'To: someone@example.test',
    `Subject: ${opts.subject}`,
    `Date: ${opts.date ?? 'Tue, 01 Oct 2024 10:00:00 +0200'}`,
  ];
  if (opts.messageId !== null) headers.push(`Message-ID: ${opts.messageId ?? `<m${counter}.${Date.now()}@example.org>`}`);
  return `${headers.join('\r\n')}\r\n\r\n${opts.body ?? `Body of ${opts.subject}\r\n`}`;
}

export interface MessageSnapshot { sha256: string; flags: string[]; internalDate: string }
export interface FolderSnapshot { path: string; subscribed: boolean; messages: MessageSnapshot[] }

/** Every folder with every message's content hash, flags and arrival date, in a stable order: what "identical" means in the tests. */
export async function snapshot(inst: DovecotInstance, address: string): Promise<FolderSnapshot[]> {
  const client = await imapAs(inst, address);
  try {
    const folders: FolderSnapshot[] = [];
    for (const folder of await client.list()) {
      if (folder.flags.has('\\Noselect') || folder.flags.has('\\NonExistent')) continue;
      const messages: MessageSnapshot[] = [];
      const lock = await client.getMailboxLock(folder.path, { readOnly: true });
      try {
        if (client.mailbox && client.mailbox.exists > 0) {
          for await (const m of client.fetch('1:*', { uid: true, flags: true, internalDate: true, source: true })) {
            messages.push({
              sha256: createHash('sha256').update(m.source!).digest('hex'),
              flags: [...(m.flags ?? [])].filter((f) => f !== '\\Recent').sort(),
              internalDate: new Date(m.internalDate!).toISOString(),
            });
          }
        }
      } finally {
        lock.release();
      }
      messages.sort((a, b) => (a.sha256 + a.internalDate).localeCompare(b.sha256 + b.internalDate));
      folders.push({ path: folder.path, subscribed: Boolean(folder.subscribed), messages });
    }
    return folders.sort((a, b) => a.path.localeCompare(b.path));
  } finally {
    await client.logout();
  }
}

export async function canLogin(inst: DovecotInstance, address: string, password?: string): Promise<boolean> {
  try {
    const client = await imapAs(inst, address, password);
    await client.logout();
    return true;
  } catch {
    return false;
  }
}

/** UIDNEXT of every folder: unchanged after a pass means nothing was appended. */
export async function uidNexts(inst: DovecotInstance, address: string): Promise<Record<string, number>> {
  const client = await imapAs(inst, address);
  try {
    const out: Record<string, number> = {};
    for (const f of await client.list()) {
      const status = await client.status(f.path, { uidNext: true });
      if (!status) throw new Error(`STATUS ${f.path} failed`);
      out[f.path] = Number(status.uidNext);
    }
    return out;
  } finally {
    await client.logout();
  }
}
