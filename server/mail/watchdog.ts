/**
 * Fails a pass that stopped moving: `progress()` is called for every message listed, read or
 * stored; when none came for `stallMs`, `onStall` runs once (it closes the connections that
 * wait, so the pending commands settle). imapflow's own socket timeout only sees silence; a
 * server that keeps a connection busy without answering, or a folder that is retried reconnect
 * after reconnect without a message moving, is caught here. Time spent waiting for a connection
 * from the pool (`paused`) is not the server's fault and does not count.
 */
export class Watchdog {
  private last = Date.now();
  private pausedAt = 0;
  private pauses = 0;
  private readonly timer: NodeJS.Timeout;
  fired = false;

  constructor(readonly stallMs: number, onStall: () => void) {
    this.timer = setInterval(() => {
      if (this.fired || this.pauses > 0 || this.idleMs() < stallMs) return;
      this.fired = true;
      onStall();
    }, Math.max(50, Math.min(1000, stallMs / 4)));
    this.timer.unref();
  }

  progress(): void {
    this.last = Math.max(this.last, Date.now());
  }

  /** A wait the server asked for (a throttle): no progress is expected for `ms`, and none missing counts until then. */
  holdFor(ms: number): void {
    this.last = Math.max(this.last, Date.now() + ms);
  }

  idleMs(): number {
    return (this.pauses > 0 ? this.pausedAt : Date.now()) - this.last;
  }

  /** Runs `wait` (a pool acquire) without counting its time as a stall. */
  async paused<T>(wait: () => Promise<T>): Promise<T> {
    if (this.pauses++ === 0) this.pausedAt = Date.now();
    try {
      return await wait();
    } finally {
      if (--this.pauses === 0) this.last += Date.now() - this.pausedAt;
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
