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
  /**
   * Resolves with the function that frees the slot, once `host:port` has one free. `waiting` is
   * called each time none is: this process's idle connections to that host are closed then.
   */
  acquire(host: string, port: number, waiting?: () => Promise<void>): Promise<() => Promise<void>>;
}

let gate: HostGate | undefined;

// Pools of this process that may keep idle connections to a host. One copy holds several pools on
// the same host (listing, set-up, appends): a pool waiting for a slot while another keeps one idle
// would wait on itself, so a wait first closes this process's idle connections to that host.
const idleHolders = new Map<string, Set<() => Promise<void>>>();
const hostKey = (endpoint: { host: string; port: number }) => `${endpoint.host.toLowerCase()}:${endpoint.port}`;

/** Registers a pool's "close your idle connections"; returns its unregistration. */
export function holdsIdle(endpoint: { host: string; port: number }, closeIdle: () => Promise<void>): () => void {
  const key = hostKey(endpoint);
  const holders = idleHolders.get(key) ?? new Set();
  idleHolders.set(key, holders.add(closeIdle));
  return () => { holders.delete(closeIdle); if (!holders.size) idleHolders.delete(key); };
}

async function closeIdleOn(endpoint: { host: string; port: number }): Promise<void> {
  await Promise.all([...(idleHolders.get(hostKey(endpoint)) ?? [])].map((closeIdle) => closeIdle().catch(() => undefined)));
}
const releases = new WeakMap<object, () => Promise<void>>();

export function installHostGate(next: HostGate | undefined): void {
  gate = next;
}

/** Opens a connection within the host's cap; the slot stays taken until `releaseHostSlot`. */
export async function openWithinHostCap<T extends object>(endpoint: { host: string; port: number }, open: () => Promise<T>): Promise<T> {
  if (!gate) return open();
  const release = await gate.acquire(endpoint.host, endpoint.port, () => closeIdleOn(endpoint));
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
