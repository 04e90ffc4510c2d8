import { grantFor, type Grant } from './grants.ts';
import type { FetchLike } from './http.ts';
import type { OAuth2Config } from './schema.ts';

export interface TokenSourceDeps {
  fetch?: FetchLike;
  /** Milliseconds since the epoch; tests move it to reach a token's expiry. */
  now?: () => number;
  timeoutMs?: number;
}

export interface TokenSource {
  /**
   * A valid access token for logging in as `address`; `forceRefresh` after the server refused
   * one. With `rejected` (the refused token), a token renewed meanwhile by another connection is
   * returned instead of asking again.
   */
  tokenFor(address: string, opts?: { forceRefresh?: boolean; rejected?: string }): Promise<string>;
}

/** Renewed this long before expiry (at most half its life), so no login starts with a token about to lapse. */
const REFRESH_MARGIN_MS = 5 * 60_000;

interface Cached { token: string; refreshAt: number }

export function createTokenSource(config: OAuth2Config, deps: TokenSourceDeps = {}): TokenSource {
  const now = deps.now ?? Date.now;
  const grants = grantFor(config, { fetch: deps.fetch ?? fetch, now, timeoutMs: deps.timeoutMs ?? 20_000 });
  const cache = new Map<string, Cached>();
  // Parallel logins of one user (a copy opens several connections) share one request.
  const pending = new Map<string, Promise<string>>();

  const obtain = (key: string, address: string): Promise<string> => {
    const inFlight = pending.get(key);
    if (inFlight) return inFlight;
    const requestedAt = now();
    const request = grants.request(address).then((grant: Grant) => {
      const lifetime = grant.expiresInSeconds * 1000;
      cache.set(key, { token: grant.accessToken, refreshAt: requestedAt + lifetime - Math.min(REFRESH_MARGIN_MS, lifetime / 2) });
      return grant.accessToken;
    }).finally(() => pending.delete(key));
    pending.set(key, request);
    return request;
  };

  return {
    async tokenFor(address, opts = {}) {
      const key = grants.cacheKey(address);
      const cached = cache.get(key);
      if (opts.forceRefresh) {
        // Several connections refused at once force one renewal, not one each.
        if (cached && opts.rejected !== undefined && cached.token !== opts.rejected) return cached.token;
        cache.delete(key);
        return obtain(key, address);
      }
      if (cached && now() < cached.refreshAt) return cached.token;
      return obtain(key, address);
    },
  };
}
