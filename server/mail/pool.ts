/** How a pool makes, checks and ends one kind of connection. */
export interface PoolKind<T> {
  open(): Promise<T>;
  usable(item: T): boolean;
  destroy(item: T): void;
  close(item: T): Promise<void>;
  /** Called once when the pool closes. */
  retired?(): void;
}

/**
 * Connections to one account, at most `max` open at once (Dovecot allows 10 per user and IP by
 * default). A connection comes back healthy or is destroyed; whoever lost one simply acquires a
 * fresh one.
 */
export class Pool<T> {
  private readonly idle: T[] = [];
  private readonly waiters: Array<(item: T | null) => void> = [];
  private open = 0;
  private closed = false;

  constructor(private readonly kind: PoolKind<T>, private max: number) {}

  /** Lowers the cap for what follows; connections already open stay until they are released. */
  limit(max: number): void {
    this.max = Math.max(1, Math.min(this.max, max));
  }

  async acquire(): Promise<T> {
    // Closed: the pass is over (or stopped by a failure); a connection opened now would only be waited for.
    if (this.closed) throw Object.assign(new Error('the pass is over: no new connection'), { code: 'PoolClosed' });
    // After a cut or a kick the idle connections are usually dead too: drop them here rather
    // than let each one cost the caller a failed attempt and a backoff.
    for (let ready = this.idle.pop(); ready !== undefined; ready = this.idle.pop()) {
      if (this.kind.usable(ready)) return ready;
      this.open--;
      this.kind.destroy(ready);
    }
    if (this.open < this.max) return this.openOne();
    const handed = await new Promise<T | null>((resolve) => this.waiters.push(resolve));
    return handed ?? this.acquire();
  }

  /**
   * Opens connections in the background until `count` are open (within the cap), each going idle
   * once logged in: work about to start then finds them ready. A failed login is left for that
   * work's own acquire to meet again, with its error.
   */
  async warm(count: number): Promise<void> {
    const opening: Array<Promise<void>> = [];
    while (!this.closed && this.open < Math.min(count, this.max)) opening.push(this.openOne().then((item) => this.release(item, true), () => undefined));
    await Promise.all(opening);
  }

  // Counted as open from the call on (before the login answers), so no caller goes past the cap.
  private async openOne(): Promise<T> {
    this.open++;
    try {
      return await this.kind.open();
    } catch (err) {
      this.open--;
      this.handOver(null);
      throw err;
    }
  }

  release(item: T, healthy: boolean): void {
    // After close() nothing waits to be reused: a connection kept idle would hold the process open until its socket times out.
    if (healthy && !this.closed && this.kind.usable(item)) {
      if (!this.handOver(item)) this.idle.push(item);
      return;
    }
    this.open--;
    this.kind.destroy(item);
    this.handOver(null);
  }

  async use<R>(work: (item: T) => Promise<R>): Promise<R> {
    const item = await this.acquire();
    let healthy = false;
    try {
      const result = await work(item);
      healthy = true;
      return result;
    } finally {
      this.release(item, healthy);
    }
  }

  // A waiter gets the connection itself, or null meaning "a slot is free, open your own".
  private handOver(item: T | null): boolean {
    const waiter = this.waiters.shift();
    if (!waiter) return false;
    waiter(item);
    return true;
  }

  /** Ends the connections nobody is using (another pool of this process waits for their host's slots). */
  async closeIdle(): Promise<void> {
    const items = this.idle.splice(0);
    this.open -= items.length;
    await Promise.all(items.map((item) => this.kind.close(item)));
    for (const _ of items) this.handOver(null);
  }

  async close(): Promise<void> {
    if (!this.closed) this.kind.retired?.();
    this.closed = true;
    await this.closeIdle();
  }
}
