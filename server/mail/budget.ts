/**
 * Bytes of message content in flight across every lane of a copy. A reader waits here before it
 * takes the next message off the wire, so memory stays bounded however large the mailbox is.
 * One message larger than the whole budget is still let through, alone.
 */
export class ByteBudget {
  private used = 0;
  private readonly waiting: Array<{ bytes: number; resolve: () => void }> = [];

  /** `afterRelease` sees every byte that leaves the budget (the copy uses it to reclaim memory). */
  constructor(readonly limit: number, private readonly afterRelease?: (bytes: number) => void) {}

  acquire(bytes: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    if (this.fits(bytes) && this.waiting.length === 0) {
      this.used += bytes;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      // A lane waits here once per batch: a listener left behind per wait would pile up on its signal.
      const onAbort = () => {
        const i = this.waiting.indexOf(entry);
        if (i >= 0) { this.waiting.splice(i, 1); reject(signal!.reason as Error); }
      };
      const entry = { bytes, resolve: () => { signal?.removeEventListener('abort', onAbort); resolve(); } };
      this.waiting.push(entry);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  release(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
    this.afterRelease?.(bytes);
    while (this.waiting.length && this.fits(this.waiting[0]!.bytes)) {
      const next = this.waiting.shift()!;
      this.used += next.bytes;
      next.resolve();
    }
  }

  get inFlight(): number {
    return this.used;
  }

  private fits(bytes: number): boolean {
    return this.used === 0 || this.used + bytes <= this.limit;
  }
}
