import type { ImapFlow } from 'imapflow';
import type { Logger } from '../log.ts';
import type { ImapEndpoint } from '../plugins/contract.ts';
import { openImap, type ImapOpenOptions } from './imap.ts';

/**
 * Connection caps per mail host that hold across processes. The copy engine only asks this
 * module for a slot before opening a connection and gives it back once the connection is
 * closed; where slots live (a table every worker shares) is the installed gate's business.
 * Without a gate, or for a host without a limit, nothing waits.
 */
export interface HostGate {
  /** Resolves with the function that frees the slot, once `host:port` has one free. */
  acquire(host: string, port: number): Promise<() => Promise<void>>;
}

let gate: HostGate | undefined;
const releases = new WeakMap<object, () => Promise<void>>();

export function installHostGate(next: HostGate | undefined): void {
  gate = next;
}

/** Opens a connection within the host's cap; the slot stays taken until `releaseHostSlot`. */
export async function openWithinHostCap<T extends object>(endpoint: { host: string; port: number }, open: () => Promise<T>): Promise<T> {
  if (!gate) return open();
  const release = await gate.acquire(endpoint.host, endpoint.port);
  try {
    const item = await open();
    releases.set(item, release);
    return item;
  } catch (err) {
    await release().catch(() => undefined);
    throw err;
  }
}

/** Call once the connection is closed (its socket gone), so the slot never outlives it nor precedes its end. */
export function releaseHostSlot(item: object): void {
  const release = releases.get(item);
  if (!release) return;
  releases.delete(item);
  void release().catch(() => undefined);
}

/** openImap within the host's cap; the slot is freed when the connection's socket closes, however that happens. */
export async function openImapWithinCap(endpoint: ImapEndpoint, log?: Logger, opts?: ImapOpenOptions): Promise<ImapFlow> {
  const client = await openWithinHostCap(endpoint, () => openImap(endpoint, log, opts));
  if (client.usable) client.once('close', () => releaseHostSlot(client));
  else releaseHostSlot(client);
  return client;
}
