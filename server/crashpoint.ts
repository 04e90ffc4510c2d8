// Named instants where the crash tests kill this very process with SIGKILL (CUTOVER_CRASH_AT=
// "point" or "point#n" for the n-th time it is reached): a real kill -9, at an exact place.
const reached = new Map<string, number>();

export function crashpoint(name: string): void {
  const spec = process.env.CUTOVER_CRASH_AT;
  if (!spec) return;
  const [point, nth = '1'] = spec.split('#');
  if (point !== name) return;
  const count = (reached.get(name) ?? 0) + 1;
  reached.set(name, count);
  if (count >= Number(nth)) process.kill(process.pid, 'SIGKILL');
}
