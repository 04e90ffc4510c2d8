import net from 'node:net';

// Apart from server/net.ts, which needs zod: `cutover copy` checks this before every login and loads nothing else of it.
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (net.isIPv4(host)) return host.startsWith('127.');
  return host === '::1';
}
