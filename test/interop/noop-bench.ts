// A no-op re-run (everything already copied, a state file kept) against a server without
// LIST-STATUS, beside mbsync against the same servers in the same run, so the ratio does not
// depend on the machine's load. Each side talks through a counting proxy: connections, commands
// and round trips per re-run. The server under test is the source (→ Dovecot) and the
// destination (Dovecot →).
// Run: node --import tsx test/interop/noop-bench.ts [--server imap4d|courier] [--runs 5] [--verbose]
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { startCourier } from '../../server/devservers/courier.ts';
import { startImap4d } from '../../server/devservers/imap4d.ts';
import type { ImapServerInstance } from '../../server/devservers/imap-server.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';
import { copier, dovecotAccounts, DOVECOT_NS, seedCorpus, serverAccounts, type Account } from './support.ts';

const execFileAsync = promisify(execFile);
const { values } = parseArgs({ options: { server: { type: 'string', default: 'imap4d' }, runs: { type: 'string', default: '5' }, verbose: { type: 'boolean', default: false } } });
const runs = Number(values.runs);
const starters: Record<string, () => Promise<ImapServerInstance>> = { imap4d: startImap4d, courier: startCourier };
const start = starters[values.server!];
if (!start || !(runs >= 1)) throw new Error('usage: noop-bench.ts [--server imap4d|courier] [--runs N]');

interface Traffic { connections: number; commands: number; roundTrips: number; verbs: Record<string, number> }
interface Side { seconds: number[]; traffic: Traffic }

const users = ['alice@example.test', 'bob@example.test', 'carol@example.test', 'dave@example.test'];
const [server, dv] = await Promise.all([start(), dovecotAccounts(users)]);
const proxies: TcpProxy[] = [];
const work = mkdtempSync(path.join(os.tmpdir(), 'cutover-noop-bench-'));
try {
  const onServer = await serverAccounts(server, users);
  // mbsync reads its own copy of the corpus (dave): it SELECTs source folders read-write, which
  // makes imap4d keep UIDs it otherwise gives anew each session, so it must not share ours.
  await Promise.all([seedCorpus(onServer[0]!, server.namespace), seedCorpus(dv.accounts[0]!, DOVECOT_NS), seedCorpus(onServer[3]!, server.namespace), seedCorpus(dv.accounts[3]!, DOVECOT_NS)]);
  const [serverProxy, dovecotProxy] = await Promise.all([startTcpProxy(server.port), startTcpProxy(dv.inst.port)]);
  proxies.push(serverProxy, dovecotProxy);
  const via = (a: Account, p: TcpProxy): Account => ({ ...a, port: p.port });
  const traffic = (): Traffic => {
    const verbs: Record<string, number> = {};
    for (const p of proxies) for (const c of p.commands) verbs[c.verb] = (verbs[c.verb] ?? 0) + 1;
    return { connections: proxies.reduce((n, p) => n + p.accepted, 0), commands: proxies.reduce((n, p) => n + p.commands.length, 0), roundTrips: proxies.reduce((n, p) => n + p.roundTrips, 0), verbs };
  };
  const delta = (a: Traffic, b: Traffic, n: number): Traffic => {
    const verbs: Record<string, number> = {};
    for (const [verb, count] of Object.entries(b.verbs)) if (count - (a.verbs[verb] ?? 0) > 0) verbs[verb] = (count - (a.verbs[verb] ?? 0)) / n;
    return { connections: (b.connections - a.connections) / n, commands: (b.commands - a.commands) / n, roundTrips: (b.roundTrips - a.roundTrips) / n, verbs };
  };
  // Re-runs of both tools alternate, so a load spike falls on both.
  const measure = async (label: string, ours: () => Promise<number>, peer: () => Promise<void>) => {
    await ours();
    let peerError: string | undefined;
    await peer().catch((err: Error) => { peerError = err.message.split('\n').slice(0, 3).join(' '); });
    const inProcess: number[] = [];
    const result: Record<'cutover' | 'mbsync', Side> = { cutover: { seconds: [], traffic: traffic() }, mbsync: { seconds: [], traffic: traffic() } };
    const totals: Record<'cutover' | 'mbsync', Traffic[]> = { cutover: [], mbsync: [] };
    for (let i = 0; i < runs; i++) {
      for (const [tool, fn] of [['cutover', ours], ['mbsync', peer]] as const) {
        if (tool === 'mbsync' && peerError) continue;
        const before = traffic();
        const t0 = performance.now();
        const seconds = await fn();
        if (typeof seconds === 'number') inProcess.push(seconds);
        result[tool].seconds.push((performance.now() - t0) / 1000);
        totals[tool].push(delta(before, traffic(), 1));
      }
    }
    for (const tool of ['cutover', 'mbsync'] as const) if (totals[tool].length) result[tool].traffic = average(totals[tool]);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const line = {
      bench: 'noop-rerun', server: server.kind, direction: label, runs,
      // Wall time of the process (CLI start included, as mbsync's), and the copy's own time inside it.
      cutoverSeconds: round(median(result.cutover.seconds)), cutoverCopySeconds: round(median(inProcess)),
      mbsyncSeconds: peerError ? null : round(median(result.mbsync.seconds)),
      ratio: peerError ? null : round(median(result.cutover.seconds) / median(result.mbsync.seconds)),
      cutover: { ...result.cutover.traffic, verbs: values.verbose ? result.cutover.traffic.verbs : undefined },
      mbsync: peerError ? { error: peerError } : { ...result.mbsync.traffic, verbs: values.verbose ? result.mbsync.traffic.verbs : undefined },
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  };

  type Pair = [string, Account, TcpProxy, Account, TcpProxy, { prefix: string; delimiter: string }, { prefix: string; delimiter: string }, Account, Account];
  const pairs: Pair[] = [
    [`${server.kind} → dovecot`, onServer[0]!, serverProxy, dv.accounts[1]!, dovecotProxy, server.namespace, DOVECOT_NS, onServer[3]!, dv.accounts[2]!],
    [`dovecot → ${server.kind}`, dv.accounts[0]!, dovecotProxy, onServer[1]!, serverProxy, DOVECOT_NS, server.namespace, dv.accounts[3]!, onServer[2]!],
  ];
  for (const [label, from, fromProxy, to, toProxy, fromNs, toNs, peerFrom, peerTo] of pairs) {
    // mbsync reads and writes accounts of its own so the two tools never see each other's copies.
    const ours = copier(via(from, fromProxy), via(to, toProxy));
    const peer = mbsync(path.join(work, label.replace(/\W+/g, '-')), via(peerFrom, fromProxy), fromNs, via(peerTo, toProxy), toNs);
    await measure(label, async () => {
      const run = await ours.run();

      if (run.result.code !== 0) throw new Error(`${label}: cutover copy exit ${run.result.code}\n${run.result.stderr}`);
      return run.report?.seconds ?? Number.NaN;
    }, peer);
    ours.cleanup();
  }
} finally {
  await Promise.all([...proxies.map((p) => p.stop()), server.stop(), dv.inst.stop()]);
  rmSync(work, { recursive: true, force: true });
}

function average(list: Traffic[]): Traffic {
  const n = list.length;
  const verbs: Record<string, number> = {};
  for (const t of list) for (const [v, c] of Object.entries(t.verbs)) verbs[v] = (verbs[v] ?? 0) + c / n;
  return { connections: list.reduce((s, t) => s + t.connections, 0) / n, commands: list.reduce((s, t) => s + t.commands, 0) / n, roundTrips: list.reduce((s, t) => s + t.roundTrips, 0) / n, verbs };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** mbsync (isync) pulling every folder from one account into another, state in its own directory. */
function mbsync(dir: string, from: Account, fromNs: { prefix: string }, to: Account, toNs: { prefix: string }): () => Promise<void> {
  mkdirSync(path.join(dir, 'state'), { recursive: true });
  writeFileSync(path.join(dir, 'from'), from.password, { mode: 0o600 });
  writeFileSync(path.join(dir, 'to'), to.password, { mode: 0o600 });
  const store = (name: string, a: Account, ns: { prefix: string }) => [
    `IMAPAccount ${name}`, 'Host 127.0.0.1', `Port ${a.port}`, `User ${a.user}`, `PassCmd "cat ${path.join(dir, name)}"`, 'SSLType None', 'AuthMechs LOGIN PLAIN', '',
    `IMAPStore ${name}-store`, `Account ${name}`, ...(ns.prefix ? [`Path ${ns.prefix}`] : []), '',
  ];
  const config = [
    ...store('from', from, fromNs), ...store('to', to, toNs),
    'Channel copy', 'Far :from-store:', 'Near :to-store:', 'Patterns *', 'Create Near', 'Sync Pull', 'Expunge None', 'CopyArrivalDate yes',
    `SyncState ${path.join(dir, 'state')}/`, '',
  ].join('\n');
  writeFileSync(path.join(dir, 'mbsyncrc'), config);
  return async () => {
    try {
      await execFileAsync('mbsync', ['-q', '-c', path.join(dir, 'mbsyncrc'), 'copy'], { timeout: 60_000 });
    } catch (err) {
      throw new Error(`mbsync failed: ${(err as { stderr?: string }).stderr ?? (err as Error).message}\n${config}`);
    }
  };
}
