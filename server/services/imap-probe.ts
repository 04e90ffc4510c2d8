import { ImapFlow } from 'imapflow';
import type { ImapEndpoint } from '../plugins/contract.ts';
import { closeQuietly, imapTransportOptions, mapImapError, openImap } from '../mail/imap.ts';

export interface ImapCapabilityReport {
  /** `authenticated`: the list a logged-in client sees; `greeting`: what the server offers before login (shorter). */
  stage: 'authenticated' | 'greeting';
  capabilities: string[];
}

const sorted = (caps: Map<string, unknown>) => [...caps.keys()].sort();

/** Logs in and reads the CAPABILITY list imapflow keeps (refreshed after login, as RFC 3501 asks). */
export async function authenticatedCapabilities(endpoint: ImapEndpoint): Promise<ImapCapabilityReport> {
  const client = await openImap(endpoint);
  try {
    return { stage: 'authenticated', capabilities: sorted(client.capabilities) };
  } finally {
    await closeQuietly(client);
  }
}

/**
 * Without credentials: connects (TLS or STARTTLS as the endpoint says) and reads what the server
 * announces before login. imapflow stops at the login it cannot make; by then it holds the list.
 */
export async function greetingCapabilities(endpoint: Omit<ImapEndpoint, 'auth'>): Promise<ImapCapabilityReport> {
  const client = new ImapFlow({
    ...imapTransportOptions(endpoint),
    connectionTimeout: 15_000,
    greetingTimeout: 10_000,
  });
  client.on('error', () => { /* reported through connect()'s rejection */ });
  try {
    await client.connect();
    return { stage: 'authenticated', capabilities: sorted(client.capabilities) };
  } catch (err) {
    // Only the refusal to log in without credentials is expected; a TLS or network failure is reported.
    if ((err as { authenticationFailed?: boolean }).authenticationFailed && client.capabilities.size > 0) return { stage: 'greeting', capabilities: sorted(client.capabilities) };
    throw mapImapError(err, endpoint.host, 'connect');
  } finally {
    client.close();
  }
}
