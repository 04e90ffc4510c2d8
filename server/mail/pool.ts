import type { ImapFlow } from 'imapflow';
import type { Logger } from '../log.ts';
import type { ImapEndpoint } from '../plugins/contract.ts';
import { closeQuietly, openImap } from './imap.ts';

/**
 * Connections to one account, at most `max` open at once (Dovecot allows 10 per user and IP by
 * default). A connection comes back healthy or is closed; a lane that lost its connection simply
 * acquires a fresh one.
 */
export class ConnectionPool {
  private readonly idle: ImapFlow[] = [];
  private readonly waiters: Array<(client: ImapFlow | null) => void> = [];
  private open = 0;

  constructor(private readonly endpoint: ImapEndpoint, private readonly max: number, private readonly log?: Logger) {}

  async acquire(): Promise<ImapFlow> {
    const ready = this.idle.pop();
    if (ready) return ready;
    if (this.open < this.max) {
      this.open++;
      try {
        return await openImap(this.endpoint, this.log);
      } catch (err) {
        this.open--;
        this.handOver(null);
        throw err;
      }
    }
    const handed = await new Promise<ImapFlow | null>((resolve) => this.waiters.push(resolve));
    return handed ?? this.acquire();
  }

  release(client: ImapFlow, healthy: boolean): void {
    if (healthy && client.usable) {
      if (!this.handOver(client)) this.idle.push(client);
      return;
    }
    this.open--;
    client.close();
    this.handOver(null);
  }

  // A waiter gets the connection itself, or null meaning "a slot is free, open your own".
  private handOver(client: ImapFlow | null): boolean {
    const waiter = this.waiters.shift();
    if (!waiter) return false;
    waiter(client);
    return true;
  }

  async close(): Promise<void> {
    const clients = this.idle.splice(0);
    this.open -= clients.length;
    await Promise.all(clients.map(closeQuietly));
  }
}
