import { createHash } from 'node:crypto';
import type { ImapFlow } from 'imapflow';
import { copyMailbox, type CopyReport } from '../../../server/mail/copy.ts';
import type { MirrorOptions } from '../../../server/mail/delta/mirror.ts';
import { planFromListings } from '../../../server/mail/plan.ts';
import type { LedgerStore } from '../../../server/mail/ledger.ts';
import type { ImapEndpoint } from '../../../server/plugins/contract.ts';
import { login, type Account } from '../../interop/support.ts';
import { rawMessage } from '../../support/mail.ts';

export type { Account } from '../../interop/support.ts';

export function endpointOf(account: Account, port = account.port): ImapEndpoint {
  return { host: account.host, port, security: 'none', tlsVerify: false, auth: { user: account.user, pass: account.password } };
}

/** One pass as `cutover copy` runs it, the folder plan made afresh each time (folders come and go between passes). */
export function pass(from: Account, to: Account, ledger: LedgerStore, n: number, mirror: MirrorOptions = { deletes: true }, ports: { source?: number; dest?: number } = {}): Promise<CopyReport> {
  return copyMailbox({
    source: endpointOf(from, ports.source), dest: endpointOf(to, ports.dest), ledger, pass: n, mirror, stallSeconds: 20,
    plan: (listed) => planFromListings(listed, [], from.host),
  });
}

export async function withClient<T>(account: Account, work: (client: ImapFlow) => Promise<T>): Promise<T> {
  const client = await login(account);
  try {
    return await work(client);
  } finally {
    await client.logout().catch(() => client.close());
  }
}

/** Appends messages to a folder (created if needed); returns their UIDs in order. */
export async function put(account: Account, folder: string, messages: Array<{ subject: string; flags?: string[] }>): Promise<number[]> {
  return withClient(account, async (client) => {
    if (folder !== 'INBOX') await client.mailboxCreate(folder).catch(() => undefined);
    const uids: number[] = [];
    for (const [i, m] of messages.entries()) {
      const raw = rawMessage({ subject: m.subject });
      const res = await client.append(folder, raw, m.flags ?? [], new Date(Date.UTC(2024, 0, 1 + i, 10)));
      uids.push(res && typeof res === 'object' && res.uid ? res.uid : 0);
    }
    return uids;
  });
}

/** Every folder as a sorted list of "content hash + flags", folder names as on a '/' server without prefix: what "identical" means here. */
export async function holdings(account: Account, ns: { prefix: string; delimiter: string }): Promise<Record<string, string[]>> {
  return withClient(account, async (client) => {
    const out: Record<string, string[]> = {};
    const listed = await client.list();
    // Courier does not list INBOX under its "INBOX." namespace.
    if (!listed.some((f) => f.path === 'INBOX')) listed.push({ path: 'INBOX', flags: new Set() } as (typeof listed)[number]);
    for (const folder of listed) {
      if (folder.flags.has('\\Noselect') || folder.flags.has('\\NonExistent')) continue;
      const name = folder.path === 'INBOX' ? 'INBOX' : folder.path.slice(ns.prefix.length).split(ns.delimiter).join('/');
      const lines: string[] = [];
      const lock = await client.getMailboxLock(folder.path, { readOnly: true });
      try {
        if (client.mailbox && client.mailbox.exists > 0) {
          for await (const m of client.fetch('1:*', { uid: true, flags: true, source: true })) {
            lines.push(`${createHash('sha256').update(m.source!).digest('hex').slice(0, 12)} ${[...(m.flags ?? [])].filter((f) => f !== '\\Recent').sort().join(' ')}`);
          }
        }
      } finally {
        lock.release();
      }
      // Empty folders do not count: a destination has its special folders whatever the source had.
      if (lines.length) out[name] = lines.sort();
    }
    return out;
  });
}

/** The source's holdings with the destination's own extra folders and messages left out of the comparison. */
export function without(held: Record<string, string[]>, extra: Record<string, string[]>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [folder, lines] of Object.entries(held)) {
    const drop = [...(extra[folder] ?? [])];
    out[folder] = lines.filter((line) => { const i = drop.indexOf(line); if (i === -1) return true; drop.splice(i, 1); return false; });
  }
  return out;
}
