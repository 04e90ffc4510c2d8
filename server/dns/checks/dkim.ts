// DKIM keys the destination platform signs with, selector by selector: a CNAME to the
// provider's key (the provider rotates it) or the key itself as TXT (RFC 6376 §3.6.1).
import type { DkimSelector } from '../../plugins/contract.ts';
import { fqdn, normalizeName } from '../names.ts';
import { txtText } from '../rdata.ts';
import type { Lookup } from '../resolver.ts';
import { DEFAULT_TTL, describeChange, txtRdata, zoneLine } from '../zonefile.ts';
import type { CheckResult } from './types.ts';

function keyOf(text: string): string | null {
  const tags = new Map(text.split(';').map((part) => {
    const eq = part.indexOf('=');
    return [part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).replace(/\s+/g, '')] as const;
  }));
  return tags.get('p') ?? null;
}

export async function checkDkim(domain: string, expected: DkimSelector, lookup: Lookup): Promise<CheckResult> {
  const owner = `${expected.selector}._domainkey.${normalizeName(domain)}`;
  const base = { id: `dkim:${expected.selector}`, title: `DKIM ${expected.selector}` };
  const [cname, txt] = await Promise.all([lookup.lookup(owner, 'CNAME'), lookup.lookup(owner, 'TXT')]);
  const want = expected.cname ? [`CNAME ${fqdn(expected.cname)}`] : expected.txt ? [`TXT ${expected.txt}`] : ['a DKIM key (TXT with p=)'];
  if (cname.outcome === 'failed' || txt.outcome === 'failed') return { ...base, status: 'unknown', found: [], expected: want };
  const alias = cname.records[0] ? normalizeName(String(cname.records[0].data)) : null;
  const keys = txt.records.map((record) => txtText(record.data)).filter((text) => /(^|;)\s*p=/.test(text));
  const found = [...(alias ? [`CNAME ${fqdn(alias)}`] : []), ...keys.map((key) => `TXT ${key.length > 60 ? `${key.slice(0, 57)}…` : key}`)];
  const publish = expected.cname
    ? zoneLine({ owner, ttl: DEFAULT_TTL, type: 'CNAME', rdata: fqdn(expected.cname) })
    : expected.txt ? zoneLine({ owner, ttl: DEFAULT_TTL, type: 'TXT', rdata: txtRdata(expected.txt) }) : null;
  const fix = publish ? describeChange([publish], alias && expected.cname ? [zoneLine({ owner, type: 'CNAME', rdata: fqdn(alias) })] : []) : undefined;
  if (expected.cname) {
    if (alias === normalizeName(expected.cname)) {
      return keys.length > 0 || txt.outcome === 'answer'
        ? { ...base, status: 'ok', found, expected: want }
        : { ...base, status: 'warn', found, expected: want, details: [`${fqdn(alias)} does not publish a key (yet): the platform may still be preparing it`] };
    }
    if (!alias && keys.length > 0) return { ...base, status: 'warn', found, expected: want, fix, details: ['the key is published as TXT: the platform cannot rotate it through the CNAME'] };
    return { ...base, status: 'error', found, expected: want, ...(fix && { fix }) };
  }
  if (expected.txt) {
    const wanted = keyOf(expected.txt);
    return keys.some((key) => keyOf(key) === wanted) ? { ...base, status: 'ok', found, expected: want } : { ...base, status: 'error', found, expected: want, ...(fix && { fix }) };
  }
  return keys.length > 0 ? { ...base, status: 'ok', found, expected: want } : { ...base, status: 'error', found, expected: want, fix: `publish the DKIM key of selector ${expected.selector} at ${fqdn(owner)}` };
}
