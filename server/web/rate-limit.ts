/**
 * Failed-login counter per key (client address, admin name), in memory: enough for one panel
 * process; a restart forgets it. After `max` failures within `windowMs` the key is refused
 * until the oldest failure leaves the window. A success clears the key.
 */
export class LoginLimiter {
  private readonly failures = new Map<string, number[]>();
  constructor(readonly max: number, readonly windowMs: number, private readonly now: () => number = Date.now) {}

  /** Milliseconds until the key may try again; 0 when it may try now. */
  retryAfter(key: string): number {
    const recent = this.recent(key);
    return recent.length < this.max ? 0 : recent[0]! + this.windowMs - this.now();
  }

  fail(key: string): void {
    const recent = this.recent(key);
    recent.push(this.now());
    this.failures.set(key, recent);
    if (this.failures.size > 10_000) this.prune();
  }

  clear(key: string): void {
    this.failures.delete(key);
  }

  private recent(key: string): number[] {
    const since = this.now() - this.windowMs;
    return (this.failures.get(key) ?? []).filter((at) => at > since);
  }

  private prune(): void {
    for (const key of [...this.failures.keys()]) if (this.recent(key).length === 0) this.failures.delete(key);
  }
}
