// The top self-time entries of a V8 CPU profile (`node --cpu-prof`), as the notes quote them:
//
//   node --import tsx test/bench/cpu-profile.ts FILE.cpuprofile [N=10]
//
// Self time is what the sampled function itself ran, not its callees. Entries are grouped by
// function and source location; paths are shown from node_modules/ or the repository on.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }
export interface CpuProfile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }
export interface SelfTimeEntry { name: string; where: string; ms: number; share: number }

export function topSelfTime(profile: CpuProfile, n: number): { entries: SelfTimeEntry[]; totalMs: number } {
  const byNode = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, SelfTimeEntry>();
  let total = 0;
  // timeDeltas[i] is the time before sample i; it belongs to the sample it leads to.
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    total += ms;
    const frame = byNode.get(id)!.callFrame;
    const where = frame.url ? `${shortUrl(frame.url)}:${frame.lineNumber + 1}` : '';
    const key = `${frame.functionName}\u0000${where}`;
    const entry = self.get(key) ?? { name: frame.functionName || '(anonymous)', where, ms: 0, share: 0 };
    entry.ms += ms;
    self.set(key, entry);
  });
  const entries = [...self.values()].sort((a, b) => b.ms - a.ms).slice(0, n);
  for (const e of entries) e.share = total ? e.ms / total : 0;
  return { entries, totalMs: total };
}

function shortUrl(url: string): string {
  const path = url.replace(/^file:\/\//, '');
  const modules = path.lastIndexOf('node_modules/');
  if (modules !== -1) return path.slice(modules + 'node_modules/'.length);
  const repo = /\/(server|plugins|dist|test)\//.exec(path);
  return repo ? path.slice(repo.index + 1) : path;
}

export function formatTop(top: { entries: SelfTimeEntry[]; totalMs: number }): string {
  const lines = top.entries.map((e, i) => `${String(i + 1).padStart(2)}. ${(e.ms / 1000).toFixed(2).padStart(6)} s ${(100 * e.share).toFixed(1).padStart(5)} %  ${e.name}  ${e.where}`);
  return [`top self time (of ${(top.totalMs / 1000).toFixed(2)} s sampled):`, ...lines].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [file, n] = process.argv.slice(2);
  if (!file) { console.error('usage: cpu-profile.ts FILE.cpuprofile [N]'); process.exit(2); }
  console.log(formatTop(topSelfTime(JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile, Number(n ?? 10))));
}
