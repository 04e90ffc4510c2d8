/**
 * How many logins may be tried, and how fast, per client address and admin name. In memory:
 * enough for one panel process; a restart forgets it.
 *
 * - An attempt is counted (reserved) BEFORE its password is hashed, synchronously, so guesses
 *   sent in parallel cannot all pass the check while the slow hashes run. A success gives its
 *   reservation back; a failure keeps it until it leaves the window.
 * - Hard limits per address (`perAddress`, any names) and per name+address (`perPair`): they
 *   stop one machine, and never lock an admin out from elsewhere.
 * - Per name, from any address, a slowdown rather than a lock: once a name has `perPair`
 *   failures in the window, attempts on it from addresses it never logged in from are served
 *   one at a time, `nameDelayMs` apart; a queue longer than `maxNameWaitMs` is refused for now.
 *   An address the admin logged in from before is not slowed.
 */
export interface LoginLimits { perPair: number; perAddress: number; windowMs: number; nameDelayMs: number; maxNameWaitMs: number }

export type LoginTicket =
  | { allowed: false; retryAfterMs: number }
  | { allowed: true; delayMs: number; succeeded(): void };

export class LoginLimiter {
  private readonly attempts = new Map<string, number[]>();
  private readonly nextNameSlot = new Map<string, number>();
  private readonly knownGood = new Set<string>();

  constructor(readonly limits: LoginLimits, private readonly now: () => number = Date.now) {}

  /** Whether attempts on this name are being slowed down (then the caller may look up {@link rememberGood} addresses). */
  isSlowed(name: string): boolean {
    return this.recent(nameKey(name)).length >= this.limits.perPair;
  }

  /** The admin logged in from this address (now or, per the audit trail, before): it is not slowed down. */
  rememberGood(name: string, address: string): void {
    this.knownGood.add(pairKey(name, address));
  }

  isKnownGood(name: string, address: string): boolean {
    return this.knownGood.has(pairKey(name, address));
  }

  /** Takes one attempt for `name` from `address`, or says how long to wait. Synchronous on purpose: see the class comment. */
  reserve(name: string, address: string): LoginTicket {
    const now = this.now();
    const keys = [addressKey(address), pairKey(name, address), nameKey(name)];
    const [byAddress, byPair, byName] = keys.map((k) => this.recent(k)) as [number[], number[], number[]];
    const over = (list: number[], max: number) => (list.length < max ? 0 : list[list.length - max]! + this.limits.windowMs - now);
    const hardWait = Math.max(over(byAddress, this.limits.perAddress), over(byPair, this.limits.perPair));
    if (hardWait > 0) return { allowed: false, retryAfterMs: hardWait };

    let delayMs = 0;
    if (byName.length >= this.limits.perPair && !this.isKnownGood(name, address)) {
      const slot = Math.max(now, this.nextNameSlot.get(keyName(name)) ?? 0);
      delayMs = slot - now;
      if (delayMs > this.limits.maxNameWaitMs) return { allowed: false, retryAfterMs: delayMs };
      this.nextNameSlot.set(keyName(name), slot + this.limits.nameDelayMs);
    }
    const lists = [byAddress, byPair, byName];
    keys.forEach((k, i) => { lists[i]!.push(now); this.attempts.set(k, lists[i]!); });
    if (this.attempts.size > 10_000) this.prune();

    return {
      allowed: true, delayMs,
      succeeded: () => {
        this.giveBack(keys[0]!, now);
        this.attempts.delete(keys[1]!);
        this.giveBack(keys[2]!, now);
        this.rememberGood(name, address);
      },
    };
  }

  private giveBack(key: string, at: number): void {
    const list = this.attempts.get(key);
    const index = list?.indexOf(at) ?? -1;
    if (index >= 0) list!.splice(index, 1);
  }

  private recent(key: string): number[] {
    const since = this.now() - this.limits.windowMs;
    return (this.attempts.get(key) ?? []).filter((at) => at > since);
  }

  private prune(): void {
    for (const key of [...this.attempts.keys()]) if (this.recent(key).length === 0) this.attempts.delete(key);
    for (const [name, slot] of [...this.nextNameSlot]) if (slot < this.now()) this.nextNameSlot.delete(name);
  }
}

// A typed name is cut to the longest admin name plus one, so a megabyte of name costs no memory.
const keyName = (name: string) => name.slice(0, 65);
const addressKey = (address: string) => `ip:${address}`;
const nameKey = (name: string) => `name:${keyName(name)}`;
const pairKey = (name: string, address: string) => `pair:${JSON.stringify([keyName(name), address])}`;
