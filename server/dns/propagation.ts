// Has the change reached every server? Authoritative servers are asked directly (RD=0, AA
// required) for the zone's SOA serial and each probed RRset: that answer is deterministic.
// Recursive resolvers are asked too (RD=1, a few times, the worst answer kept, since anycast
// resolvers have many caches); a stale answer there clears within its remaining TTL, a stale
// negative one within min(SOA TTL, SOA MINIMUM) (RFC 2308), which gives the ETA.
import type { AuthServer } from './authority.ts';
import { serialNewer } from './authority.ts';
import type { CheckResult, CheckStatus } from './checks/types.ts';
import { normalizeName } from './names.ts';
import { formatNameServer, query, type NameServer, type QueryOptions, type RecordType } from './transport.ts';
import type { SoaData, WireRecord } from './wire.ts';

/** One RRset the change is about, and how to tell the new data from the old. */
export interface Probe {
  id: string;
  name: string;
  type: string;
  matches(records: WireRecord[]): boolean;
  show(records: WireRecord[]): string;
}

export type ServerStateName = 'updated' | 'stale' | 'unknown' | 'lame';

export interface ProbeView { id: string; found: string; ok: boolean }

export interface ServerState {
  label: string;
  nsName: string;
  address: string | null;
  state: ServerStateName;
  serial: number | null;
  probes: ProbeView[];
  /** Why the server is grey (no answer) or lame (answers without authority). */
  detail: string | null;
  records: Map<string, WireRecord[]>;
}

export interface ResolverState {
  server: string;
  state: 'updated' | 'stale' | 'unknown';
  /** Worst-case seconds until this resolver's caches hold the new data; null when unknown. */
  etaSeconds: number | null;
  probes: ProbeView[];
  detail: string | null;
}

function recordsAt(answers: WireRecord[], name: string, type: string): WireRecord[] {
  return answers.filter((record) => record.type === type && normalizeName(record.name) === normalizeName(name));
}

/** Asks one authoritative server for the SOA and every probe; grey on silence, lame without AA. */
async function readServer(server: AuthServer, zone: string, probes: Probe[], options: QueryOptions): Promise<ServerState> {
  const base = { label: server.label, nsName: server.nsName, address: server.address ? formatNameServer(server.address) : null, serial: null, probes: [], records: new Map<string, WireRecord[]>() };
  if (!server.address) return { ...base, state: 'unknown', detail: `${server.nsName} has no address` };
  const ask = { ...options, recursionDesired: false };
  const lame = (why: string): ServerState => ({ ...base, state: 'lame', detail: why });
  let serial: number;
  try {
    const soa = await query(server.address, zone, 'SOA', ask);
    if (soa.rcode !== 'NOERROR') return lame(`answers ${soa.rcode} for the zone's SOA`);
    if (!soa.authoritative) return lame('answers without authority (AA=0): it does not serve the zone');
    const record = recordsAt(soa.answers, zone, 'SOA')[0];
    if (!record) return lame('has no SOA for the zone');
    serial = (record.data as SoaData).serial;
  } catch (err) {
    return { ...base, state: 'unknown', detail: (err as Error).message };
  }
  const views: ProbeView[] = [];
  const records = new Map<string, WireRecord[]>();
  for (const probe of probes) {
    try {
      const response = await query(server.address, probe.name, probe.type as RecordType, ask);
      if (!['NOERROR', 'NXDOMAIN'].includes(response.rcode)) return { ...base, serial, state: 'lame', detail: `answers ${response.rcode} for ${probe.name} ${probe.type}` };
      if (!response.authoritative) return { ...base, serial, state: 'lame', detail: `answers ${probe.name} ${probe.type} without authority (AA=0)` };
      const found = recordsAt(response.answers, probe.name, probe.type);
      records.set(probe.id, found);
      views.push({ id: probe.id, found: probe.show(found), ok: probe.matches(found) });
    } catch (err) {
      return { ...base, serial, state: 'unknown', detail: (err as Error).message };
    }
  }
  return { ...base, serial, probes: views, records, state: views.every((view) => view.ok) ? 'updated' : 'stale', detail: null };
}

export function readAuthoritative(servers: AuthServer[], zone: string, probes: Probe[], options: QueryOptions = {}): Promise<ServerState[]> {
  return Promise.all(servers.map((server) => readServer(server, zone, probes, options)));
}

/** The answering server with the newest serial: the zone as last changed, which the record checks read. */
export function newestServer(states: ServerState[]): ServerState | null {
  let best: ServerState | null = null;
  for (const state of states) {
    if ((state.state !== 'updated' && state.state !== 'stale') || state.serial === null) continue;
    if (best === null || serialNewer(state.serial, best.serial!) || (state.serial === best.serial && state.state === 'updated' && best.state !== 'updated')) best = state;
  }
  return best;
}

/** A resolver's answers to each probe, `repeats` times each, the slowest to clear kept. */
async function readResolver(server: NameServer, probes: Probe[], options: QueryOptions, repeats: number): Promise<ResolverState> {
  const views: ProbeView[] = [];
  let eta = 0;
  let answered = false;
  let detail: string | null = null;
  for (const probe of probes) {
    let worst: ProbeView | null = null;
    for (let round = 0; round < repeats; round++) {
      try {
        const response = await query(server, probe.name, probe.type as RecordType, { ...options, recursionDesired: true });
        if (!['NOERROR', 'NXDOMAIN'].includes(response.rcode)) {
          detail = `answers ${response.rcode} for ${probe.name} ${probe.type}`;
          continue;
        }
        answered = true;
        const found = followed(response.answers, probe);
        const ok = probe.matches(found);
        if (!ok) {
          const soa = response.authorities.find((record) => record.type === 'SOA');
          const clears = found.length > 0
            ? Math.min(...found.map((record) => record.ttl))
            : soa ? Math.min(soa.ttl, (soa.data as SoaData).minimum) : 0;
          eta = Math.max(eta, clears);
        }
        if (worst === null || (worst.ok && !ok)) worst = { id: probe.id, found: probe.show(found), ok };
      } catch (err) {
        detail = (err as Error).message;
        // A resolver that does not answer at all would cost a timeout per question: one is enough.
        if (!answered) return { server: formatNameServer(server), state: 'unknown', etaSeconds: null, probes: views, detail };
      }
    }
    if (worst) views.push(worst);
  }
  const label = formatNameServer(server);
  if (!answered || views.length < probes.length) return { server: label, state: 'unknown', etaSeconds: null, probes: views, detail: detail ?? 'no answer' };
  const updated = views.every((view) => view.ok);
  return { server: label, state: updated ? 'updated' : 'stale', etaSeconds: updated ? 0 : eta, probes: views, detail: null };
}

/** Records of the probed type at the end of the CNAME chain in a recursive answer. */
function followed(answers: WireRecord[], probe: Probe): WireRecord[] {
  let owner = normalizeName(probe.name);
  for (let hops = 0; hops < 8 && probe.type !== 'CNAME'; hops++) {
    const alias = answers.find((record) => record.type === 'CNAME' && normalizeName(record.name) === owner);
    if (!alias) break;
    owner = normalizeName(String(alias.data));
  }
  return recordsAt(answers, owner, probe.type);
}

export function readResolvers(servers: NameServer[], probes: Probe[], options: QueryOptions = {}, repeats = 2): Promise<ResolverState[]> {
  return Promise.all(servers.map((server) => readResolver(server, probes, options, repeats)));
}

export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  const parts: string[] = [];
  const days = Math.floor(seconds / 86_400);
  const hours = Math.floor((seconds % 86_400) / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = seconds % 60;
  if (days) parts.push(`${days}d`);
  if (hours) parts.push(`${hours}h`);
  if (minutes) parts.push(`${minutes}m`);
  if (rest && !days) parts.push(`${rest}s`);
  return parts.join(' ');
}

function serverLine(state: ServerState): string {
  const serial = state.serial === null ? '' : ` serial ${state.serial}`;
  if (state.state === 'unknown') return `? ${state.label}: no answer (${state.detail})`;
  if (state.state === 'lame') return `✖ ${state.label}:${serial} lame: ${state.detail}`;
  const mark = state.state === 'updated' ? '✔' : '✖';
  return `${mark} ${state.label}:${serial} ${state.probes.map((probe) => `${probe.id} ${probe.found}`).join('; ')}`;
}

/** "authoritative: n/m updated": green when every server serves the new data, grey when none answered. */
export function propagationCheck(states: ServerState[], notes: string[]): CheckResult {
  const total = states.length;
  const updated = states.filter((state) => state.state === 'updated').length;
  const silent = states.filter((state) => state.state === 'unknown').length;
  const lame = states.filter((state) => state.state === 'lame').length;
  const answering = total - silent;
  const serials = [...new Set(states.flatMap((state) => (state.serial === null ? [] : [state.serial])))];
  let status: CheckStatus;
  if (total === 0 || answering === 0) status = 'unknown';
  else if (lame > 0 || updated === 0) status = 'error';
  else if (updated === total) status = 'ok';
  else status = 'warn';
  const summary = `authoritative: ${updated}/${total} updated${silent ? `, ${silent} not answering` : ''}${lame ? `, ${lame} lame` : ''}`;
  const details = [...states.map(serverLine), ...notes];
  if (serials.length > 1) details.push(`serials differ (${serials.join(', ')}): a server has not loaded the latest version of the zone yet`);
  const result: CheckResult = { id: 'propagation', title: 'Propagation', status, found: [summary], expected: [`authoritative: ${total}/${total} updated`], details, gate: 'ok' };
  if (status === 'warn' && silent > 0 && updated === answering) result.fix = `check the servers that do not answer (${states.filter((s) => s.state === 'unknown').map((s) => s.label).join(', ')}), or confirm by hand`;
  if (lame > 0) result.fix = `fix or remove the lame server(s) from the zone's NS set: ${states.filter((s) => s.state === 'lame').map((s) => s.label).join(', ')}`;
  return result;
}

/** The recursive view: advisory, with a worst-case ETA for the caches to clear. */
export function resolversCheck(states: ResolverState[], authoritativeDone: boolean): CheckResult {
  const answering = states.filter((state) => state.state !== 'unknown');
  const fresh = answering.filter((state) => state.state === 'updated').length;
  const eta = Math.max(0, ...answering.map((state) => state.etaSeconds ?? 0));
  const status: CheckStatus = answering.length === 0 ? 'unknown' : fresh === answering.length ? 'ok' : 'warn';
  const when = authoritativeDone ? `worst-case ETA ${formatDuration(eta)}` : `once the authoritative servers are updated, up to ${formatDuration(eta)} more`;
  const summary = `resolvers: ${fresh}/${states.length} seeing the new records${status === 'warn' ? `, ${when}` : ''}`;
  const details = states.map((state) => {
    if (state.state === 'unknown') return `? ${state.server}: no answer (${state.detail})`;
    const mark = state.state === 'updated' ? '✔' : '!';
    const left = state.state === 'stale' ? ` (cached, clears within ${formatDuration(state.etaSeconds ?? 0)})` : '';
    return `${mark} ${state.server}: ${state.probes.map((probe) => `${probe.id} ${probe.found}`).join('; ')}${left}`;
  });
  return { id: 'resolvers', title: 'Resolvers', status, found: [summary], expected: [`resolvers: ${states.length}/${states.length} seeing the new records`], details };
}
