// A TCP proxy on 127.0.0.1 that holds every chunk for half a round-trip time in each direction,
// in order, for the bench's WAN mode: the kernel here has no netem. Bandwidth is not limited;
// only latency is added, which is what makes a protocol wait (one round trip per command that
// waits for its answer). Runs inside the bench process: its CPU is the bench's own, measured apart.
import net from 'node:net';
import { freePort } from '../../server/devservers/ports.ts';

export interface DelayProxy {
  port: number;
  rttMs: number;
  /** Connections accepted so far (each tool run opens a few). */
  connections(): number;
  close(): Promise<void>;
}

interface Held { due: number; chunk?: Buffer; end?: true }

/**
 * Forwards `from` to `to`, each chunk `delayMs` after it arrived, never out of order. A writer
 * that cannot keep up pauses the reader (so memory stays bounded by the socket buffers).
 */
function delayedPipe(from: net.Socket, to: net.Socket, delayMs: number): void {
  const held: Held[] = [];
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    timer = undefined;
    const now = performance.now();
    while (held.length && held[0]!.due <= now) {
      const next = held.shift()!;
      if (next.end) { to.end(); return; }
      if (!to.write(next.chunk!) && !from.isPaused()) {
        from.pause();
        to.once('drain', () => from.resume());
      }
    }
    if (held.length) timer = setTimeout(flush, Math.max(0, held[0]!.due - now));
  };
  const hold = (item: Omit<Held, 'due'>) => {
    held.push({ ...item, due: performance.now() + delayMs });
    timer ??= setTimeout(flush, delayMs);
  };
  from.on('data', (chunk: Buffer) => hold({ chunk }));
  from.on('end', () => hold({ end: true }));
  from.on('close', () => { if (!held.length) to.destroy(); });
  to.on('close', () => { if (timer) clearTimeout(timer); held.length = 0; from.destroy(); });
}

export async function startDelayProxy(target: { host?: string; port: number }, rttMs: number): Promise<DelayProxy> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer({ noDelay: true }, (client) => {
    accepted++;
    const upstream = net.connect({ host: target.host ?? '127.0.0.1', port: target.port, noDelay: true });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => { client.destroy(); upstream.destroy(); });
      s.on('close', () => sockets.delete(s));
    }
    delayedPipe(client, upstream, rttMs / 2);
    delayedPipe(upstream, client, rttMs / 2);
  });
  const port = await freePort();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    port,
    rttMs,
    connections: () => accepted,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}
