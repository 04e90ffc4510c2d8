import type { Lookup } from '../../../server/dns/resolver.ts';
import type { MxData } from '../../../server/dns/wire.ts';
import { stripDot, type Candidate } from './candidate.ts';

interface Preset { provider: NonNullable<Candidate['provider']>; mx: RegExp; imap: (mx: string) => string }

/**
 * The providers people leave most, recognised by their MX hosts, with the IMAP server each one
 * documents (all implicit TLS on 993, logging in with the full address):
 * - Google Workspace: MX aspmx.l.google.com (or smtp.google.com) → imap.gmail.com;
 * - Microsoft 365: MX <tenant>.mail.protection.outlook.com → outlook.office365.com;
 * - OVHcloud: MX mxN.mail.ovh.net → ssl0.ovh.net (MX Plan; Exchange and E-mail Pro have their own host);
 * - Zoho Mail (organisations): MX mx.zoho.com/.eu/.in/.com.au → imappro.zoho.<same>;
 * - iCloud+ custom domains: MX mx01.mail.icloud.com → imap.mail.me.com.
 */
const PRESETS: Preset[] = [
  { provider: 'google', mx: /(^|\.)(google|googlemail)\.com$/, imap: () => 'imap.gmail.com' },
  { provider: 'microsoft365', mx: /\.protection\.outlook\.com$/, imap: () => 'outlook.office365.com' },
  { provider: 'ovhcloud', mx: /(^|\.)ovh\.(net|ca)$/, imap: (mx) => (mx.endsWith('.ca') ? 'ssl0.ovh.ca' : 'ssl0.ovh.net') },
  { provider: 'zoho', mx: /(^|\.)zoho\.(com|eu|in|com\.au)$/, imap: (mx) => `imappro.zoho.${/zoho\.(com\.au|com|eu|in)$/.exec(mx)![1]}` },
  { provider: 'icloud', mx: /(^|\.)mail\.icloud\.com$/, imap: () => 'imap.mail.me.com' },
];

export interface MxFinding { mx: Array<{ priority: number; exchange: string }>; candidates: Candidate[] }

export async function mxCandidates(resolver: Lookup, address: string, domain: string, tried: string[]): Promise<MxFinding> {
  const result = await resolver.lookup(domain, 'MX');
  if (result.outcome !== 'answer') {
    tried.push(`MX ${domain}: ${result.outcome === 'failed' ? `lookup failed (${result.failure})` : 'none'}`);
    return { mx: [], candidates: [] };
  }
  const mx = result.records.map((r) => r.data as MxData).map((m) => ({ priority: m.preference, exchange: stripDot(m.exchange) }))
    .filter((m) => m.exchange !== '').sort((a, b) => a.priority - b.priority);
  const candidates: Candidate[] = [];
  for (const record of mx) {
    const preset = PRESETS.find((p) => p.mx.test(record.exchange));
    if (!preset || candidates.some((c) => c.provider === preset.provider)) continue;
    candidates.push({ host: preset.imap(record.exchange), port: 993, security: 'tls', login: address, source: `MX ${record.exchange} (${preset.provider} preset)`, provider: preset.provider });
  }
  if (candidates.length === 0) tried.push(`MX ${domain}: ${mx.map((m) => m.exchange).join(', ') || 'null MX'} (no known provider)`);
  return { mx, candidates };
}

/** The `include:` targets of the domain's SPF record: what the current host expects a domain to publish. */
export async function spfIncludes(resolver: Lookup, domain: string): Promise<string[]> {
  const result = await resolver.lookup(domain, 'TXT');
  if (result.outcome !== 'answer') return [];
  const spf = result.records.map((r) => (r.data as Buffer[]).map((b) => b.toString('utf8')).join('')).find((t) => /^v=spf1(\s|$)/i.test(t));
  if (!spf) return [];
  return spf.split(/\s+/).map((term) => /^[+?~-]?include:(.+)$/i.exec(term)?.[1]).filter((t): t is string => Boolean(t)).map(stripDot).slice(0, 10);
}
