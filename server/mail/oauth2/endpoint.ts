import type { ImapEndpoint } from '../../plugins/contract.ts';
import type { TokenSource } from './token-source.ts';

/** An endpoint that logs in as `address` with tokens from `source`, renewed by every new connection that needs one. */
export function withAccessToken(endpoint: Omit<ImapEndpoint, 'auth'>, source: TokenSource, address: string): ImapEndpoint {
  return { ...endpoint, auth: { user: address, pass: '', renewAccessToken: (opts) => source.tokenFor(address, opts) } };
}

export function usesAccessToken(auth: ImapEndpoint['auth']): boolean {
  return Boolean(auth.accessToken || auth.renewAccessToken);
}

/** The token the next login presents: renewed through the source when there is one, else the fixed one. */
export async function currentAccessToken(auth: ImapEndpoint['auth'], rejected?: string): Promise<string> {
  if (auth.renewAccessToken) return auth.renewAccessToken({ forceRefresh: rejected !== undefined, rejected });
  return auth.accessToken ?? '';
}
