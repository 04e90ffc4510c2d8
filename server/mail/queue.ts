/** A single-producer, single-consumer async queue; the producer's `end` or `fail` finishes the consumer's loop. */
export class AsyncQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private waiter?: () => void;
  private ended = false;
  private error?: Error;

  push(item: T): void {
    this.items.push(item);
    this.wake();
  }

  end(): void {
    this.ended = true;
    this.wake();
  }

  fail(error: Error): void {
    this.error = error;
    this.wake();
  }

  /** Takes out what was never consumed, so the producer's reservations can be given back. */
  drain(): T[] {
    return this.items.splice(0);
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }

  /**
   * Waits for at least one item, then takes what is already there up to the limits: a batch never
   * waits for more items to arrive, so a slow producer does not delay the consumer.
   */
  async nextBatch(maxItems: number, maxBytes: number, sizeOf: (item: T) => number): Promise<T[] | undefined> {
    for (;;) {
      if (this.error) throw this.error;
      if (this.items.length) break;
      if (this.ended) return undefined;
      await new Promise<void>((resolve) => { this.waiter = resolve; });
    }
    const batch: T[] = [this.items.shift()!];
    let bytes = sizeOf(batch[0]!);
    while (this.items.length && batch.length < maxItems && bytes + sizeOf(this.items[0]!) <= maxBytes) {
      const item = this.items.shift()!;
      bytes += sizeOf(item);
      batch.push(item);
    }
    return batch;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      if (this.error) throw this.error;
      if (this.items.length) { yield this.items.shift()!; continue; }
      if (this.ended) return;
      await new Promise<void>((resolve) => { this.waiter = resolve; });
    }
  }
}
