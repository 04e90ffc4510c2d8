import type { LedgerEntry, LedgerStore } from './ledger.ts';

const FLUSH_ROWS = 200;
const FLUSH_MS = 500;

/**
 * Ledger rows written in batches: one transaction per few hundred messages instead of one per
 * message. Rows lost to a crash before a flush are not a risk: the next run finds those messages
 * on the destination without a ledger row and matches them by fingerprint.
 */
export class LedgerBuffer {
  private rows: LedgerEntry[] = [];
  private lastFlush = Date.now();
  private pending: Promise<void> = Promise.resolve();

  constructor(private readonly store: LedgerStore) {}

  add(entry: LedgerEntry): Promise<void> {
    this.rows.push(entry);
    if (this.rows.length >= FLUSH_ROWS || Date.now() - this.lastFlush >= FLUSH_MS) return this.flush();
    return Promise.resolve();
  }

  flush(): Promise<void> {
    const batch = this.rows;
    this.rows = [];
    this.lastFlush = Date.now();
    if (batch.length) this.pending = this.pending.then(() => this.store.recordMany(batch));
    return this.pending;
  }
}
