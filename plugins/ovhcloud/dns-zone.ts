import { CutoverError } from '../../server/errors.ts';
import type { DnsChange, DnsPrerequisite, DnsProvider, DnsRecord } from '../../server/plugins/contract.ts';
import { OvhApiError, toCutoverError, type OvhClient } from './client.ts';
import type { OvhConfig } from './config.ts';
import { pathSegment } from './signing.ts';

/** GET /domain/zone/{zone}/record/{id}: MX and SRV priorities are part of `target` ("1 mx0.mail.ovh.net."). */
interface ZoneRecord { id: number; zone: string; fieldType: string; subDomain: string | null; target: string; ttl: number | null }

const lower = (name: string) => name.trim().toLowerCase().replace(/\.$/, '');

/** The TXT strings of a target, whether OVHcloud stored it quoted ("\"v=spf1 …\"") or bare. */
function txtStrings(value: string): string[] {
  const trimmed = value.trim();
  if (!trimmed.startsWith('"')) return [trimmed];
  const strings: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"/g;
  for (let m = re.exec(trimmed); m; m = re.exec(trimmed)) strings.push(m[1]!.replace(/\\(.)/g, '$1'));
  return strings;
}

/** One spelling per RDATA, so "10 MX.example.net" and "10 mx.example.net." compare equal and TXT chunks join. */
export function canonicalData(type: string, data: string): string {
  const t = type.toUpperCase();
  if (t === 'TXT' || t === 'SPF' || t === 'DKIM' || t === 'DMARC') return txtStrings(data).join('');
  if (['MX', 'CNAME', 'NS', 'PTR', 'SRV', 'DNAME'].includes(t)) return data.trim().split(/\s+/).map((tok) => (/[a-z]/i.test(tok) ? lower(tok) : tok)).join(' ');
  return data.trim();
}

/** Presentation RDATA for cutover (TXT quoted, names absolute). */
function presentation(type: string, target: string): string {
  if (type === 'TXT') return txtStrings(target).map((s) => `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`).join(' ');
  return target.trim();
}

/**
 * OVHcloud DNS zones as a cutover DNS provider: records are listed, created and deleted through
 * /domain/zone/{zone}/record, then POST …/refresh publishes them. The API has no transaction:
 * prerequisites are checked just before the change (an optimistic lock with a short window,
 * not RFC 2136's atomic one), and a change already in place is skipped, so a repeated apply is
 * harmless. OVHcloud's own "SPF" record type is shown as TXT, which is what it publishes.
 */
export class OvhZoneProvider implements DnsProvider {
  readonly readOnly = false;

  constructor(private readonly client: OvhClient, private readonly config: OvhConfig) {}

  private async guard<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw toCutoverError(err, this.client.endpoint, what);
    }
  }

  private path(zone: string): string {
    return `/domain/zone/${pathSegment(lower(zone))}`;
  }

  manages(zone: string): Promise<boolean> {
    return this.guard(`zone ${zone}`, async () => {
      if (this.config.zones && !this.config.zones.map(lower).includes(lower(zone))) return false;
      return (await this.client.getOrNull(this.path(zone))) !== null;
    });
  }

  private subDomain(zone: string, name: string): string {
    const n = lower(name);
    const z = lower(zone);
    if (n === z) return '';
    if (!n.endsWith(`.${z}`)) throw new CutoverError('INPUT_INVALID', { detail: `${name} is not inside the zone ${zone}` });
    return n.slice(0, -(z.length + 1));
  }

  private async raw(zone: string, name?: string, type?: string): Promise<ZoneRecord[]> {
    const subDomain = name === undefined ? undefined : this.subDomain(zone, name);
    const types = type === undefined ? [undefined] : type.toUpperCase() === 'TXT' ? ['TXT', 'SPF'] : [type.toUpperCase()];
    const records: ZoneRecord[] = [];
    for (const fieldType of types) {
      const ids = await this.client.get<number[]>(`${this.path(zone)}/record`, { fieldType, subDomain });
      for (const id of ids) {
        const record = await this.client.getOrNull<ZoneRecord>(`${this.path(zone)}/record/${id}`);
        if (record) records.push(record);
      }
    }
    return records;
  }

  private toRecord(zone: string, r: ZoneRecord): DnsRecord {
    const type = r.fieldType === 'SPF' ? 'TXT' : r.fieldType;
    return { name: r.subDomain ? `${lower(r.subDomain)}.${lower(zone)}` : lower(zone), type, ttl: r.ttl ?? 0, data: presentation(type, r.target) };
  }

  listRecords(zone: string, name?: string, type?: string): Promise<DnsRecord[]> {
    return this.guard(`records of ${zone}`, async () => (await this.raw(zone, name, type)).map((r) => this.toRecord(zone, r)));
  }

  apply(zone: string, changes: DnsChange[], prerequisites: DnsPrerequisite[] = []): Promise<void> {
    return this.guard(`change of ${zone}`, async () => {
      const sets = new Map<string, ZoneRecord[]>();
      const key = (name: string, type: string) => `${lower(name)}|${type.toUpperCase()}`;
      const read = async (name: string, type: string) => {
        const k = key(name, type);
        if (!sets.has(k)) sets.set(k, await this.raw(zone, name, type));
        return sets.get(k)!;
      };
      for (const p of prerequisites) {
        const have = (await read(p.name, p.type)).map((r) => canonicalData(p.type, r.target)).sort();
        const want = p.data.map((d) => canonicalData(p.type, d)).sort();
        if (have.length !== want.length || have.some((d, i) => d !== want[i])) {
          throw new CutoverError('DNS_PREREQUISITE_FAILED', { zone, rcode: 'checked through the OVHcloud API just before the change', detail: `${p.name} ${p.type} holds [${have.join(', ')}], expected [${want.join(', ')}]` });
        }
      }
      let changed = false;
      for (const change of changes) {
        if (change.op === 'add') continue;
        const name = change.op === 'delete' ? change.record.name : change.name;
        const type = change.op === 'delete' ? change.record.type : change.type;
        const doomed = (await read(name, type)).filter((r) => change.op === 'deleteRRset' || canonicalData(type, r.target) === canonicalData(type, change.record.data));
        for (const r of doomed) {
          await this.deleteRecord(zone, r.id);
          changed = true;
        }
        sets.set(key(name, type), (await read(name, type)).filter((r) => !doomed.includes(r)));
      }
      for (const change of changes) {
        if (change.op !== 'add') continue;
        const { record } = change;
        const type = record.type.toUpperCase();
        const present = (await read(record.name, type)).some((r) => canonicalData(type, r.target) === canonicalData(type, record.data));
        if (present) continue;
        const target = type === 'TXT' ? `"${txtStrings(record.data).join('').replace(/"/g, '\\"')}"` : record.data.trim();
        const created = await this.client.post<ZoneRecord>(`${this.path(zone)}/record`, { fieldType: type, subDomain: this.subDomain(zone, record.name), target, ttl: record.ttl });
        sets.get(key(record.name, type))!.push(created);
        changed = true;
      }
      if (changed) await this.client.post(`${this.path(zone)}/refresh`);
    });
  }

  private async deleteRecord(zone: string, id: number): Promise<void> {
    try {
      await this.client.delete(`${this.path(zone)}/record/${id}`);
    } catch (err) {
      if (!(err instanceof OvhApiError && err.status === 404)) throw err;
    }
  }

  async close(): Promise<void> {
    // Nothing held open.
  }
}
