/**
 * Fails a pass that stopped moving: `progress()` is called for every message listed, read or
 * stored; when none came for `stallMs`, `onStall` runs once (it closes the connection that
 * waits, so the pending command settles). imapflow's own socket timeout only sees silence; a
 * server that keeps a connection busy without answering, or a folder that is retried
 * reconnect after reconnect without a message moving, is caught here.
 */
export class Watchdog {
  private last = Date.now();
  private readonly timer: NodeJS.Timeout;
  fired = false;

  constructor(readonly stallMs: number, onStall: () => void) {
    this.timer = setInterval(() => {
      if (this.fired || this.idleMs() < stallMs) return;
      this.fired = true;
      onStall();
    }, Math.max(50, Math.min(1000, stallMs / 4)));
    this.timer.unref();
  }

  progress(): void {
    this.last = Date.now();
  }

  idleMs(): number {
    return Date.now() - this.last;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
