// Presets for the sources people leave most: what their IMAP view needs from the folder plan
// and the copy (Gmail's labels and views, Exchange's non-mail folders, size limits, throttling).
import { gmailRules } from './gmail.ts';
import { MICROSOFT365_MESSAGE_BYTES, MICROSOFT365_MESSAGE_BYTES_MAX, microsoft365Rules } from './microsoft365.ts';
import { noRules, type FolderRules } from './rules.ts';

export type { FolderRules } from './rules.ts';

/** The provider ids every branch uses. */
export const PROVIDER_IDS = ['google', 'microsoft365', 'ovhcloud', 'zoho', 'icloud'] as const;
export type ProviderId = (typeof PROVIDER_IDS)[number];

export interface ProviderLimits {
  /** Largest message the provider stores or serves by default; bigger ones go to the skip list. */
  maxMessageBytes?: number;
  /** The most an admin may configure `maxMessageBytes` to. */
  maxMessageBytesCeiling?: number;
  /** Simultaneous IMAP connections per user the provider tolerates. */
  maxConnectionsPerUser?: number;
  /**
   * The provider answers load with throttling replies ("Request is throttled. Suggested Backoff
   * Time: N milliseconds" on Exchange): the copy waits as told and reconnects, it does not fail.
   */
  throttles: boolean;
}

const RULES: Partial<Record<string, FolderRules>> = { google: gmailRules, microsoft365: microsoft365Rules };

// Gmail: 15 connections per user (Google's IMAP limits); Exchange Online: 35 MB by default, up to
// 150 MB, and its own throttling policy, so fewer parallel lanes than a private server takes.
const LIMITS: Partial<Record<string, ProviderLimits>> = {
  google: { maxConnectionsPerUser: 15, throttles: true },
  microsoft365: { maxMessageBytes: MICROSOFT365_MESSAGE_BYTES, maxMessageBytesCeiling: MICROSOFT365_MESSAGE_BYTES_MAX, maxConnectionsPerUser: 8, throttles: true },
};

export function folderRulesFor(provider: string | undefined): FolderRules {
  return (provider && RULES[provider]) || noRules;
}

export function limitsFor(provider: string | undefined): ProviderLimits {
  return (provider && LIMITS[provider]) || { throttles: false };
}

/** The message size limit for a copy from `provider`: the admin's within the provider's ceiling, else the provider's default. */
export function messageLimitFor(provider: string | undefined, configured?: number): number | undefined {
  const limits = limitsFor(provider);
  if (configured === undefined) return limits.maxMessageBytes;
  return limits.maxMessageBytesCeiling ? Math.min(configured, limits.maxMessageBytesCeiling) : configured;
}
