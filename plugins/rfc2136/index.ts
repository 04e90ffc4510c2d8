// DNS provider for any server that takes RFC 2136 dynamic updates signed with TSIG (BIND, Knot,
// PowerDNS): reads RRsets by querying the primary directly, applies a change as one signed
// UPDATE with prerequisites, and believes the answer only once its signature checks out.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { CutoverError } from '../../server/errors.ts';
import { normalizeName } from '../../server/dns/names.ts';
import { formatRdata } from '../../server/dns/rdata.ts';
import { formatNameServer, parseNameServer, query, type NameServer, type RecordType } from '../../server/dns/transport.ts';
import { TSIG_ALGORITHMS, type TsigKey } from '../../server/dns/tsig.ts';
import { sendUpdate, updateSections } from '../../server/dns/update.ts';
import type { DnsChange, DnsPrerequisite, DnsProvider, DnsRecord, PluginDeps, PluginModule } from '../../server/plugins/contract.ts';
import { domainName } from '../../server/net.ts';

const base64 = z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/, 'must be base64 (as tsig-keygen prints it)');

const keySchema = z.object({
  name: z.string().min(1).regex(/^[a-z0-9._-]+\.?$/i, 'not a valid key name'),
  algorithm: z.enum(Object.keys(TSIG_ALGORITHMS) as [keyof typeof TSIG_ALGORITHMS]).default('hmac-sha256'),
  secret: base64.meta({ secret: true }).optional(),
  secretFile: z.string().min(1).optional(),
  secretEnv: z.string().min(1).optional(),
}).strict().refine((k) => [k.secret, k.secretFile, k.secretEnv].filter(Boolean).length === 1, 'give exactly one of secret, secretFile, secretEnv');

const configSchema = z.object({
  /** The zone's primary: where updates go and where records are read (IP literal, optional port). */
  server: z.string().refine((spec) => { try { parseNameServer(spec); return true; } catch { return false; } }, 'must be an IP address with an optional port, e.g. 192.0.2.53 or 192.0.2.53:5300').meta({ description: 'The zone\'s primary: IP address with an optional port, e.g. 192.0.2.53:5300' }),
  /** Zones this key may change; empty = any zone the server is authoritative for. */
  zones: z.array(domainName).meta({ description: 'Zones this key may change; empty: any zone the server is authoritative for' }).default([]),
  key: keySchema,
  timeoutMs: z.number().int().min(100).max(60_000).default(5_000),
  /** Accepted clock difference with the server, in seconds (RFC 8945 fudge). */
  fudge: z.number().int().min(1).max(3_600).default(300),
}).strict();

export type Rfc2136Config = z.infer<typeof configSchema>;

/** Common RRsets read when listRecords() is asked for a name without a type: RFC 2136 has no listing. */
const LISTED_TYPES = ['SOA', 'NS', 'MX', 'TXT', 'A', 'AAAA', 'CNAME', 'SRV', 'CAA'];

function readSecret(key: Rfc2136Config['key']): Buffer {
  let text: string;
  if (key.secret) text = key.secret;
  else if (key.secretFile) {
    try {
      text = readFileSync(key.secretFile, 'utf8').trim();
    } catch (err) {
      throw new CutoverError('CONFIG_INVALID', { where: ' for plugin rfc2136 (key.secretFile)', detail: `cannot read ${key.secretFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
    }
  } else {
    text = process.env[key.secretEnv!]?.trim() ?? '';
    if (!text) throw new CutoverError('CONFIG_INVALID', { where: ' for plugin rfc2136 (key.secretEnv)', detail: `environment variable ${key.secretEnv} is empty` });
  }
  const secret = Buffer.from(text, 'base64');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || secret.length === 0) {
    throw new CutoverError('CONFIG_INVALID', { where: ' for plugin rfc2136 (key)', detail: 'the TSIG secret is not base64' });
  }
  return secret;
}

class Rfc2136Provider implements DnsProvider {
  readonly readOnly = false;
  private readonly server: NameServer;

  constructor(private readonly config: Rfc2136Config, private readonly deps: PluginDeps) {
    this.server = parseNameServer(config.server);
  }

  /** Read at each use, so a rotated secret file is picked up and the secret never sits in a log context. */
  private key(): TsigKey {
    return { name: this.config.key.name, algorithm: this.config.key.algorithm, secret: readSecret(this.config.key) };
  }

  async manages(zone: string): Promise<boolean> {
    const apex = normalizeName(zone);
    if (this.config.zones.length > 0 && !this.config.zones.map(normalizeName).includes(apex)) return false;
    const response = await query(this.server, apex, 'SOA', { recursionDesired: false, timeoutMs: this.config.timeoutMs, retries: 1 });
    return response.authoritative && response.rcode === 'NOERROR' && response.answers.some((r) => r.type === 'SOA' && normalizeName(r.name) === apex);
  }

  async listRecords(zone: string, name?: string, type?: string): Promise<DnsRecord[]> {
    const owner = normalizeName(name ?? zone);
    const types = type ? [type.toUpperCase()] : LISTED_TYPES;
    const records: DnsRecord[] = [];
    for (const t of types) {
      const response = await query(this.server, owner, t as RecordType, { recursionDesired: false, timeoutMs: this.config.timeoutMs, retries: 1 });
      if (response.rcode === 'NXDOMAIN') return [];
      if (response.rcode !== 'NOERROR' || !response.authoritative) {
        throw new CutoverError('DNS_PROVIDER_UNSUITABLE', { name: `rfc2136 ${formatNameServer(this.server)}`, detail: `it answers ${response.rcode}${response.authoritative ? '' : ' without authority'} for ${owner} ${t}: is it the primary of ${normalizeName(zone)}?` });
      }
      for (const record of response.answers) {
        if (record.type !== t || normalizeName(record.name) !== owner) continue;
        records.push({ name: owner, type: t, ttl: record.ttl, data: formatRdata(t, record.data) });
      }
    }
    return records;
  }

  async apply(zone: string, changes: DnsChange[], prerequisites: DnsPrerequisite[] = []): Promise<void> {
    if (changes.length === 0) return;
    const sections = updateSections(zone, changes, prerequisites);
    await sendUpdate({ server: this.server, zone, key: this.key(), timeoutMs: this.config.timeoutMs, fudge: this.config.fudge }, sections);
    this.deps.log.info({ zone: normalizeName(zone), server: formatNameServer(this.server), changes: changes.length, prerequisites: prerequisites.length }, 'rfc2136 update applied');
  }

  async close(): Promise<void> {
    // Nothing held open: each update is its own TCP connection.
  }
}

const plugin: PluginModule<Rfc2136Config> = {
  id: 'rfc2136',
  description: 'DNS provider: RFC 2136 dynamic updates signed with TSIG (BIND, Knot, PowerDNS)',
  configSchema: configSchema as unknown as PluginModule<Rfc2136Config>['configSchema'],
  dns: (config, deps) => new Rfc2136Provider(config, deps),
};

export default plugin;
