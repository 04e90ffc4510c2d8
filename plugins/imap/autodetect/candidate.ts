/** One way to reach a domain's IMAP server, found somewhere in its DNS or autoconfig. */
export interface Candidate {
  host: string;
  port: number;
  security: 'tls' | 'starttls';
  /** The user name to log in with, for this address (autoconfig may say the local part). */
  login: string;
  /** Where it came from, in words. */
  source: string;
  provider?: 'google' | 'microsoft365' | 'ovhcloud' | 'zoho' | 'icloud';
}

export function splitAddress(address: string): { local: string; domain: string } {
  const at = address.lastIndexOf('@');
  return { local: address.slice(0, at), domain: address.slice(at + 1).toLowerCase() };
}

export const stripDot = (name: string) => name.replace(/\.$/, '').toLowerCase();
