// Bandwidth caps (imapsync's --maxbytespersecond) and the copy window's closing time, applied where
// a lane reserves the bytes of its next messages: a pass slows down there, or stops there, between
// two messages, never inside one.
import { CutoverError } from '../errors.ts';
import { ByteBudget } from './budget.ts';

/** 10 Gbit/s: a cap above it is a typo, not a limit. */
export const MAX_BYTES_PER_SECOND = 1_250_000_000;

/** Bytes per second on average: a reservation takes its bytes and waits while the bucket is in debt. */
export class TokenBucket {
  private tokens: number;
  private last = Date.now();
  private queue: Promise<void> = Promise.resolve();

  constructor(readonly bytesPerSecond: number) {
    // One second's worth of burst: enough for a batch to go at once, not enough to break the average.
    this.tokens = bytesPerSecond;
  }

  /** Resolves once `bytes` may go; reservations are served in order, so lanes share the rate. */
  take(bytes: number, signal?: AbortSignal): Promise<void> {
    const turn = this.queue.then(() => this.wait(bytes, signal));
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private async wait(bytes: number, signal?: AbortSignal): Promise<void> {
    const now = Date.now();
    this.tokens = Math.min(this.bytesPerSecond, this.tokens + ((now - this.last) / 1000) * this.bytesPerSecond);
    this.last = now;
    this.tokens -= bytes;
    if (this.tokens >= 0) return;
    const ms = Math.ceil((-this.tokens / this.bytesPerSecond) * 1000);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(); }, ms);
      const onAbort = () => { clearTimeout(timer); reject(signal!.reason as Error); };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

// One bucket per source host in this process: every pass reading from that host shares it.
const hostBuckets = new Map<string, TokenBucket>();

export function hostBucket(host: string, bytesPerSecond: number): TokenBucket {
  const key = `${host.toLowerCase()}|${bytesPerSecond}`;
  if (!hostBuckets.has(key)) hostBuckets.set(key, new TokenBucket(bytesPerSecond));
  return hostBuckets.get(key)!;
}

export interface Pace {
  /** Every cap that applies (the project's, the source host's); each is honoured. */
  buckets: TokenBucket[];
  /** The copy window's closing time: no message is started after it. */
  stopAt?: number;
  /** Words of the error a closed window stops the pass with. */
  closed?: () => CutoverError;
}

/** The byte budget of a pass, paced by its caps and stopped at its window's end. */
export class PacedBudget extends ByteBudget {
  private charged = 0;

  constructor(limit: number, afterRelease: ((bytes: number) => void) | undefined, private readonly pace: Pace) {
    super(limit, afterRelease);
  }

  override async acquire(bytes: number, signal?: AbortSignal): Promise<void> {
    this.stopIfClosed();
    this.charged += bytes;
    for (const bucket of this.pace.buckets) await bucket.take(bytes, signal);
    this.stopIfClosed();
    return super.acquire(bytes, signal);
  }

  /**
   * The lanes reserve a fixed share for a message large enough to be spooled, whatever its size:
   * once the pass reports what it really copied, the difference is charged too.
   */
  settle(copiedBytes: number): void {
    const extra = copiedBytes - this.charged;
    if (extra <= 0) return;
    this.charged += extra;
    for (const bucket of this.pace.buckets) bucket.take(extra).catch(() => undefined);
  }

  private stopIfClosed(): void {
    if (this.pace.stopAt !== undefined && Date.now() >= this.pace.stopAt) {
      throw this.pace.closed?.() ?? new CutoverError('COPY_WINDOW_CLOSED', { project: '', closedAt: new Date(this.pace.stopAt).toISOString(), opensAt: '' }, { retryable: true });
    }
  }
}

/** A plain budget when nothing paces the pass. */
export function budgetFor(limit: number, afterRelease: ((bytes: number) => void) | undefined, pace?: Pace): ByteBudget & { settle?(copiedBytes: number): void } {
  return pace && (pace.buckets.length || pace.stopAt !== undefined) ? new PacedBudget(limit, afterRelease, pace) : new ByteBudget(limit, afterRelease);
}
