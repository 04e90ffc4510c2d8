// Misbehaving DNS servers for transport tests: a real authoritative server never sends a wrong id,
// garbage or a gratuitous TC=1, so these are scripted by hand on loopback.
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket, { type Answer, type DecodedPacket } from 'dns-packet';

export interface FakeServer {
  host: '127.0.0.1';
  port: number;
  /** Queries seen over UDP (retries included). */
  udpQueries: number;
  tcpQueries: number;
  stop(): Promise<void>;
}

export type Reply = (message: Buffer) => void;
export interface Script {
  udp?: (query: DecodedPacket, reply: Reply) => void;
  tcp?: (query: DecodedPacket, socket: net.Socket) => void;
}

/** A reply echoing the query's id and question unless told otherwise. */
export function replyTo(query: DecodedPacket, opts: { id?: number; flags?: number; answers?: Answer[]; name?: string } = {}): Buffer {
  const [question] = query.questions ?? [];
  if (question === undefined) throw new Error('query without a question');
  return dnsPacket.encode({
    type: 'response',
    id: opts.id ?? query.id,
    flags: opts.flags ?? dnsPacket.AUTHORITATIVE_ANSWER,
    questions: [{ ...question, name: opts.name ?? question.name }],
    answers: opts.answers ?? [],
  });
}

export function mxAnswer(name: string, preference: number, exchange: string): Answer {
  return { type: 'MX', name, ttl: 300, class: 'IN', data: { preference, exchange } };
}

/** UDP (and TCP on the same port number, for the TC=1 fallback) driven by a script. */
export async function startScriptedServer(script: Script): Promise<FakeServer> {
  const { udp, tcp } = await bindPair();
  const connections = new Set<net.Socket>();
  const state: FakeServer = {
    host: '127.0.0.1',
    port: udp.address().port,
    udpQueries: 0,
    tcpQueries: 0,
    stop: () => closeAll(udp, tcp, connections),
  };
  udp.on('message', (message, rinfo) => {
    state.udpQueries += 1;
    script.udp?.(dnsPacket.decode(message), (out) => udp.send(out, rinfo.port, rinfo.address));
  });
  tcp.on('connection', (socket) => {
    connections.add(socket);
    socket.on('close', () => connections.delete(socket));
    socket.on('error', () => { /* the client may hang up first; nothing to report */ });
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      if (pending.length < 2 || pending.length < 2 + pending.readUInt16BE(0)) return;
      state.tcpQueries += 1;
      script.tcp?.(dnsPacket.streamDecode(pending) as DecodedPacket, socket);
    });
  });
  return state;
}

/** A UDP port that reads queries and never answers: the client can only time out. */
export function startSilentServer(): Promise<FakeServer> {
  return startScriptedServer({});
}

/** The OS hands out the UDP port; TCP has to be free on the same number too, so retry until it is. */
async function bindPair(): Promise<{ udp: dgram.Socket; tcp: net.Server }> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const udp = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
    const tcp = net.createServer();
    const listening = await new Promise<boolean>((resolve) => {
      tcp.once('error', () => resolve(false));
      tcp.listen(udp.address().port, '127.0.0.1', () => resolve(true));
    });
    if (listening) return { udp, tcp };
    udp.close();
  }
  throw new Error('no port free for both UDP and TCP');
}

async function closeAll(udp: dgram.Socket, tcp: net.Server, connections: Set<net.Socket>): Promise<void> {
  await new Promise<void>((resolve) => udp.close(() => resolve()));
  for (const socket of connections) socket.destroy();
  await new Promise<void>((resolve) => tcp.close(() => resolve()));
}
