import type { ExpectedDns, MxRecord } from '../../server/plugins/contract.ts';
import type { Region } from './config.ts';

/**
 * The records OVHcloud's shared e-mail platforms expect, used where the API gives none (the
 * new MX Plan has no expectedSPF; the legacy API only recommends records). Versioned: a new
 * OVHcloud layout is a new key, and a platform keeps the version it was configured with.
 */
export const DNS_TEMPLATES = {
  '2024-02': {
    source: 'OVHcloud guides dns_zone_mx (2024-02-29) and dns_zone_spf; CA from the control panel constants',
    regions: {
      'ovh-eu': {
        mx: [{ priority: 1, exchange: 'mx0.mail.ovh.net' }, { priority: 5, exchange: 'mx1.mail.ovh.net' }, { priority: 50, exchange: 'mx2.mail.ovh.net' }, { priority: 100, exchange: 'mx3.mail.ovh.net' }, { priority: 200, exchange: 'mx4.mail.ovh.net' }],
        spfIncludes: ['mx.ovh.com'],
        relayHost: 'mx1.mail.ovh.net',
      },
      'ovh-ca': {
        mx: [{ priority: 1, exchange: 'mx1.mail.ovh.ca' }, { priority: 5, exchange: 'mx2.mail.ovh.ca' }, { priority: 50, exchange: 'mx3.mail.ovh.ca' }, { priority: 100, exchange: 'mx4.mail.ovh.ca' }],
        spfIncludes: ['mx.ovh.com'],
        relayHost: 'mx1.mail.ovh.ca',
      },
    },
  },
} as const;

export type TemplateVersion = keyof typeof DNS_TEMPLATES;

export function template(version: TemplateVersion, region: Region): { mx: MxRecord[]; spfIncludes: string[]; relayHost: string } {
  const regions = DNS_TEMPLATES[version].regions as Record<string, { mx: readonly MxRecord[]; spfIncludes: readonly string[]; relayHost: string }>;
  const t = regions[region] ?? regions['ovh-eu']!;
  return { mx: t.mx.map((m) => ({ ...m })), spfIncludes: [...t.spfIncludes], relayHost: t.relayHost };
}

const host = (name: string) => name.trim().toLowerCase().replace(/\.$/, '');

/**
 * The API's expectedMX strings, whose format the schema does not state: a bare host
 * ("mx0.mail.ovh.net"), with a priority ("1 mx0.mail.ovh.net.") or in zone-file style
 * ("IN MX 1 mx0.mail.ovh.net."). A missing priority is taken from the template for that host.
 */
export function parseExpectedMx(values: string[], fallback: MxRecord[]): MxRecord[] {
  const out: MxRecord[] = [];
  values.forEach((value, index) => {
    const tokens = value.trim().split(/\s+/).filter((t) => t && !/^(IN|MX)$/i.test(t));
    if (!tokens.length) return;
    const exchange = host(tokens[tokens.length - 1]!);
    const numeric = tokens.length > 1 && /^\d+$/.test(tokens[tokens.length - 2]!) ? Number(tokens[tokens.length - 2]) : undefined;
    const known = fallback.find((m) => host(m.exchange) === exchange)?.priority;
    out.push({ priority: numeric ?? known ?? (index + 1) * 10, exchange });
  });
  return out;
}

/** The includes of an SPF value given as "IN TXT v=spf1 include:mx.ovh.com ~all" (the control panel's regex: ^IN ([A-Z]*) (v=spf.*all)). */
export function parseExpectedSpf(value: string | null | undefined): string[] | null {
  if (!value) return null;
  const spf = /v=spf1[^"]*/i.exec(value.replace(/"\s*"/g, ''))?.[0];
  if (!spf) return null;
  return spf.split(/\s+/).filter((t) => /^[+?~-]?include:/i.test(t)).map((t) => host(t.slice(t.indexOf(':') + 1)));
}

/** The target of an expected autodiscover SRV ("_autodiscover._tcp IN SRV 0 0 443 ex5.mail.ovh.net."), null when absent. */
export function parseExpectedSrv(value: string | null | undefined): string | null {
  if (!value) return null;
  const tokens = value.trim().split(/\s+/);
  const last = tokens[tokens.length - 1];
  return last && /[a-z]/i.test(last) && !/^_/.test(last) ? host(last) : null;
}

/** Expected records from the API's fields, the template filling what the API leaves out. */
export function expectedFromApi(api: { mx: string[]; spf: string | null }, fallback: { mx: MxRecord[]; spfIncludes: string[] }): ExpectedDns & { from: { mx: 'api' | 'template'; spf: 'api' | 'template' } } {
  const mx = api.mx.length ? parseExpectedMx(api.mx, fallback.mx) : null;
  const spf = parseExpectedSpf(api.spf);
  return {
    mx: mx && mx.length ? mx : fallback.mx,
    spfIncludes: spf && spf.length ? spf : fallback.spfIncludes,
    from: { mx: mx && mx.length ? 'api' : 'template', spf: spf && spf.length ? 'api' : 'template' },
  };
}
