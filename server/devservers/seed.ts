import { ImapFlow } from 'imapflow';
import type { DovecotInstance } from './dovecot.ts';

export interface SeedMessage { folder: string; raw: string | Buffer; flags?: string[]; date?: Date }

/** Fills a mailbox over IMAP as the master user, creating and subscribing folders on the way. */
export async function appendMessages(inst: DovecotInstance, address: string, messages: SeedMessage[]): Promise<void> {
  const client = new ImapFlow({ host: inst.host, port: inst.port, secure: false, logger: false, disableAutoIdle: true, tls: { rejectUnauthorized: false }, auth: { user: `${address}*${inst.masterUser}`, pass: inst.masterPassword } });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const existing = new Set((await client.list()).map((f) => f.path));
    for (const m of messages) {
      if (m.folder !== 'INBOX' && !existing.has(m.folder)) {
        await client.mailboxCreate(m.folder);
        await client.mailboxSubscribe(m.folder);
        existing.add(m.folder);
      }
      await client.append(m.folder, m.raw, m.flags ?? [], m.date);
    }
  } finally {
    await client.logout();
  }
}
