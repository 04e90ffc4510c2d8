import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { CutoverError } from '../../server/errors.ts';
import { isLoopback } from '../../server/loopback.ts';
import { hostname } from '../../server/net.ts';

/** API v1 base URLs of the three regions (go-ovh, python-ovh and node-ovh agree). */
export const REGIONS = {
  'ovh-eu': 'https://eu.api.ovh.com/1.0',
  'ovh-ca': 'https://ca.api.ovh.com/1.0',
  'ovh-us': 'https://api.us.ovhcloud.com/1.0',
} as const;

export type Region = keyof typeof REGIONS;

/** The four e-mail offers; `mxplan-legacy` is the /email/domain API, where the service is the domain. */
export const OFFERS = ['exchange', 'pro', 'mxplan', 'mxplan-legacy'] as const;
export type Offer = (typeof OFFERS)[number];

const unit = z.enum(['bytes', 'KB', 'MB', 'GB']);
export type SizeUnit = z.infer<typeof unit>;

const imapSchema = z.object({
  host: hostname,
  port: z.number().int().min(1).max(65535).default(993),
  security: z.enum(['tls', 'starttls', 'none']).default('tls'),
  tlsVerify: z.boolean().default(true),
  caFile: z.string().optional(),
  allowPlaintext: z.boolean().default(false),
}).refine((i) => i.security !== 'none' || i.allowPlaintext || isLoopback(i.host), 'security "none" sends passwords in clear: allowed only to a loopback host or with allowPlaintext: true');

export const configSchema = z.object({
  region: z.enum(['ovh-eu', 'ovh-ca', 'ovh-us']).default('ovh-eu'),
  /** Explicit API base URL (tests, or a proxy); otherwise the region's. */
  endpoint: z.string().url().refine((u) => /^https?:\/\//.test(u), 'must be an http(s) URL').meta({ description: 'Explicit API base URL (tests, or a proxy); otherwise the region\'s' }).optional(),
  applicationKey: z.string().min(1),
  applicationSecret: z.string().min(1).meta({ secret: true }).optional(),
  applicationSecretFile: z.string().min(1).optional(),
  applicationSecretEnv: z.string().min(1).optional(),
  consumerKey: z.string().min(1).meta({ secret: true }).optional(),
  consumerKeyFile: z.string().min(1).optional(),
  consumerKeyEnv: z.string().min(1).optional(),
  /** Absent for a DNS-only configuration. */
  offer: z.enum(OFFERS).meta({ description: 'Leave empty for a DNS-only configuration' }).optional(),
  /** Exchange: the service name (hosted-xx12345-1); E-mail Pro and MX Plan: the service; legacy MX Plan: unused. */
  service: z.string().min(1).meta({ description: 'The service name shown in the control panel (Exchange: hosted-xx12345-1); unused for the legacy MX Plan' }).optional(),
  /** Exchange only; defaults to the service name (hosted offers use the same string). */
  organization: z.string().min(1).optional(),
  /** IMAP endpoint override; by default the documented host of the offer with TLS verified. */
  imap: imapSchema.optional(),
  /** Where another platform relays unknown recipients of this one (attach-domain's mxRelay). */
  relayHost: hostname.optional(),
  /** Overrides the offer's mailbox size limit (E-mail Pro 10 GB, MX Plan 5 GB). */
  maxMailboxBytes: z.number().int().positive().optional(),
  /** Units of the API's `quota` and `currentUsage` fields, which the schemas do not state. */
  units: z.object({ quota: unit.default('GB'), usage: unit.default('MB') }).default({ quota: 'GB', usage: 'MB' }),
  /** Exchange POST /account (dedicated and provider-2010 offers only): the licence of new accounts. */
  license: z.enum(['basic', 'standard', 'enterprise']).default('standard'),
  /** Whether the Exchange service may create accounts with POST (otherwise a free @configureme.me slot is configured). */
  createWithPost: z.boolean().optional(),
  /** How long one step waits on a platform task before handing back to the scheduler. */
  taskWaitSeconds: z.number().int().min(1).max(3600).default(120),
  pollIntervalMs: z.number().int().min(10).max(60_000).default(1000),
  /** Expected-DNS template version used where the API gives no expected records. */
  dnsTemplate: z.enum(['2024-02']).default('2024-02'),
  /** DNS provider: zones it may change; without it, every zone the consumer key can see. */
  zones: z.array(z.string().min(1)).meta({ description: 'DNS provider: zones it may change; empty: every zone the consumer key can see' }).optional(),
  http: z.object({ timeoutMs: z.number().int().min(100).default(30_000), retries: z.number().int().min(0).max(10).default(3), retryBaseMs: z.number().int().min(1).default(500) })
    .default({ timeoutMs: 30_000, retries: 3, retryBaseMs: 500 }),
}).strict()
  .refine((c) => [c.applicationSecret, c.applicationSecretFile, c.applicationSecretEnv].filter(Boolean).length <= 1, { message: 'give at most one of applicationSecret, applicationSecretFile, applicationSecretEnv', path: ['applicationSecret'] })
  .refine((c) => [c.consumerKey, c.consumerKeyFile, c.consumerKeyEnv].filter(Boolean).length <= 1, { message: 'give at most one of consumerKey, consumerKeyFile, consumerKeyEnv', path: ['consumerKey'] })
  .refine((c) => !c.offer || c.offer === 'mxplan-legacy' || Boolean(c.service), { message: 'this offer needs "service" (the service name shown in the control panel)', path: ['service'] })
  .refine((c) => c.offer !== 'exchange' || c.region !== 'ovh-us', { message: 'OVHcloud US offers no hosted e-mail', path: ['offer'] })
  .refine((c) => !(c.offer === 'pro' || c.offer === 'mxplan-legacy') || c.region === 'ovh-eu' || Boolean(c.endpoint), { message: 'E-mail Pro and the legacy MX Plan API exist only in the ovh-eu region', path: ['offer'] });

export type OvhConfig = z.infer<typeof configSchema>;

export function baseUrl(config: OvhConfig): string {
  return (config.endpoint ?? REGIONS[config.region]).replace(/\/+$/, '');
}

function readOne(config: OvhConfig, name: 'applicationSecret' | 'consumerKey'): string | undefined {
  const inline = config[name];
  if (inline) return inline;
  const file = config[`${name}File`];
  if (file) {
    try { return readFileSync(file, 'utf8').trim(); } catch (err) {
      throw new CutoverError('CONFIG_INVALID', { where: ' for plugin ovhcloud', detail: `${name}File: cannot read ${file}: ${(err as Error).message}` });
    }
  }
  const env = config[`${name}Env`];
  if (env) {
    const value = process.env[env];
    if (!value) throw new CutoverError('CONFIG_INVALID', { where: ' for plugin ovhcloud', detail: `${name}Env: environment variable ${env} is empty` });
    return value.trim();
  }
  return undefined;
}

/** The secrets, read when a connector is built (never logged, never on argv). */
export function readCredentials(config: OvhConfig): { applicationKey: string; applicationSecret: string; consumerKey: string } {
  const applicationSecret = readOne(config, 'applicationSecret');
  const consumerKey = readOne(config, 'consumerKey');
  const missing = [!applicationSecret && 'applicationSecret (or applicationSecretFile / applicationSecretEnv)', !consumerKey && 'consumerKey (or consumerKeyFile / consumerKeyEnv); obtain one with: cutover ovh credential --config FILE'].filter(Boolean);
  if (missing.length) throw new CutoverError('CONFIG_INVALID', { where: ' for plugin ovhcloud', detail: `missing ${missing.join(' and ')}` });
  return { applicationKey: config.applicationKey, applicationSecret: applicationSecret!, consumerKey: consumerKey! };
}

// Decimal units, as OVHcloud counts them: the legacy MX Plan's default size is 5 000 000 000 bytes for "5 GB".
const FACTORS: Record<SizeUnit, number> = { bytes: 1, KB: 1e3, MB: 1e6, GB: 1e9 };

export function toBytes(value: number | null | undefined, from: SizeUnit): number | null {
  if (value === null || value === undefined || !Number.isFinite(value)) return null;
  return Math.round(value * FACTORS[from]);
}

export function fromBytes(bytes: number, to: SizeUnit): number {
  return bytes / FACTORS[to];
}
