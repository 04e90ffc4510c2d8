// DMARC (RFC 7489): one `v=DMARC1` record at _dmarc.<domain>, parseable, its policy shown.
import { fqdn, normalizeName } from '../names.ts';
import { txtText } from '../rdata.ts';
import type { Lookup } from '../resolver.ts';
import { DEFAULT_TTL, describeChange, txtRdata, zoneLine } from '../zonefile.ts';
import type { CheckResult } from './types.ts';

export interface DmarcPolicy { tags: Map<string, string>; errors: string[]; warnings: string[] }

const KNOWN_TAGS = new Set(['v', 'p', 'sp', 'adkim', 'aspf', 'pct', 'rua', 'ruf', 'fo', 'rf', 'ri', 'np', 'psd', 't']);
const POLICIES = new Set(['none', 'quarantine', 'reject']);

export function parseDmarc(text: string): DmarcPolicy {
  const errors: string[] = [];
  const warnings: string[] = [];
  const tags = new Map<string, string>();
  const parts = text.split(';').map((part) => part.trim()).filter((part) => part !== '');
  parts.forEach((part, index) => {
    const eq = part.indexOf('=');
    if (eq <= 0) { errors.push(`"${part}" is not tag=value`); return; }
    const tag = part.slice(0, eq).trim().toLowerCase();
    const value = part.slice(eq + 1).trim();
    if (index === 0 && (tag !== 'v' || value !== 'DMARC1')) errors.push('the record must start with "v=DMARC1"');
    if (tags.has(tag)) errors.push(`tag ${tag} appears twice`);
    if (!KNOWN_TAGS.has(tag)) warnings.push(`unknown tag ${tag}`);
    tags.set(tag, value);
  });
  const policy = tags.get('p');
  if (policy === undefined) errors.push('no policy (p=) tag');
  else if (!POLICIES.has(policy.toLowerCase())) errors.push(`p=${policy} is not none, quarantine or reject`);
  const sub = tags.get('sp');
  if (sub !== undefined && !POLICIES.has(sub.toLowerCase())) errors.push(`sp=${sub} is not none, quarantine or reject`);
  for (const tag of ['adkim', 'aspf']) {
    const value = tags.get(tag);
    if (value !== undefined && !['r', 's'].includes(value.toLowerCase())) errors.push(`${tag}=${value} is not r or s`);
  }
  const pct = tags.get('pct');
  if (pct !== undefined && (!/^\d+$/.test(pct) || Number(pct) > 100)) errors.push(`pct=${pct} is not 0-100`);
  for (const tag of ['rua', 'ruf']) {
    const value = tags.get(tag);
    if (value !== undefined && !value.split(',').every((uri) => /^mailto:[^@\s]+@[^@\s]+$/i.test(uri.trim().replace(/!\d+[kmgt]?$/i, '')))) errors.push(`${tag}= must be mailto: addresses`);
  }
  return { tags, errors, warnings };
}

export async function checkDmarc(domain: string, lookup: Lookup): Promise<CheckResult> {
  const owner = `_dmarc.${normalizeName(domain)}`;
  const base = { id: 'dmarc', title: 'DMARC', expected: ['one v=DMARC1 record with a policy (p=none, quarantine or reject)'] };
  const result = await lookup.lookup(owner, 'TXT');
  if (result.outcome === 'failed') return { ...base, status: 'unknown', found: [] };
  const records = result.records.map((record) => txtText(record.data)).filter((text) => /^v\s*=\s*DMARC1\s*(;|$)/i.test(text));
  const suggestion = zoneLine({ owner, ttl: DEFAULT_TTL, type: 'TXT', rdata: txtRdata(`v=DMARC1; p=none; rua=mailto:postmaster@${normalizeName(domain)}`) });
  if (records.length === 0) {
    return { ...base, status: 'warn', found: [], fix: `${describeChange([suggestion], [])} (p=none only monitors; tighten to quarantine or reject once reports are clean)` };
  }
  if (records.length > 1) return { ...base, status: 'error', found: records, fix: `keep one record at ${fqdn(owner)}: receivers ignore DMARC when there are several` };
  const record = records[0]!;
  const parsed = parseDmarc(record);
  if (parsed.errors.length > 0) return { ...base, status: 'error', found: [record], details: parsed.errors, fix: `correct the record at ${fqdn(owner)}: ${parsed.errors.join('; ')}` };
  const policy = parsed.tags.get('p')!.toLowerCase();
  const sub = parsed.tags.get('sp')?.toLowerCase();
  const details = [
    `policy: ${policy}${sub && sub !== policy ? ` (subdomains: ${sub})` : ''}${policy === 'none' ? ' — monitoring only, nothing is rejected' : ''}`,
    ...(parsed.tags.get('rua') ? [`aggregate reports to ${parsed.tags.get('rua')}`] : ['no rua=: nobody receives the aggregate reports']),
    ...parsed.warnings,
  ];
  return { ...base, status: 'ok', found: [`p=${policy}${sub ? ` sp=${sub}` : ''}`], details };
}
