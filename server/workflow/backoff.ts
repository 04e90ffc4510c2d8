const BASE_MS = 5_000;
const CAP_MS = 30 * 60_000;

/** The one backoff curve for every retryable failure: 5 s doubling to 30 min, with ±20 % jitter so workers spread out. */
export function backoffDelay(attempts: number, random: () => number = Math.random): number {
  const raw = Math.min(CAP_MS, BASE_MS * 2 ** Math.max(0, attempts - 1));
  return Math.round(raw * (0.8 + 0.4 * random()));
}
