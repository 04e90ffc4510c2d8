import net from 'node:net';

/**
 * A small scriptable IMAP4rev1 server on 127.0.0.1 that serves a seeded folder set and, on
 * request, breaks the protocol the way hostile or broken servers do (issue #11). It accepts any
 * login. One instance per test file; `setMode` switches the behaviour between tests.
 *
 * It speaks just enough IMAP for imapflow and cutover's copy engine: CAPABILITY, LOGIN, LIST, LSUB, STATUS, SELECT/EXAMINE, (UID) FETCH with UID, FLAGS,
 * INTERNALDATE, RFC822.SIZE and BODY.PEEK[] (partial too), (UID) SEARCH, NOOP, CLOSE, UNSELECT,
 * LOGOUT. No extension beyond what the greeting lists (no STARTTLS, no LIST-EXTENDED).
 */

export type HostileMode =
  | 'none'
  /** One message per folder (sequence 2) carries the keyword `bad"kw` in FLAGS, sent in every FETCH answer about it: an unparseable line. */
  | 'bad-keyword'
  /** In the middle of a body FETCH, an unsolicited `* 1 FETCH (FLAGS (…))` (legal: another client changed a flag). */
  | 'unsolicited-fetch'
  /** Every FETCH answers message 1 twice. */
  | 'duplicate-uid'
  /** Message 3 of each folder has UID 4294967296 (2^32), past the largest UID IMAP allows. */
  | 'huge-uid'
  /** A body FETCH is answered with a line that never ends. */
  | 'endless-line'
  /** FETCH commands are never answered (the connection stays open). */
  | 'stops-answering'
  /** A body FETCH of message 2 announces a literal, sends half of it and closes the connection. */
  | 'truncated-literal'
  /** `* BYE` in the middle of a body FETCH (before message 2), then the connection closes. */
  | 'bye-mid-fetch'
  /** A FETCH of flags alone (a delta pass's look at known messages) is refused with BAD, as GNU imap4d did once a UID had changed under it. */
  | 'refuses-flag-fetch'
  /** The server accepts the connection and never greets. */
  | 'no-greeting'
  /** The server greets, then never answers anything. */
  | 'greeting-then-silence';

export interface HostileMessage { raw: Buffer; flags: string[]; internalDate: Date; uid: number }
export interface HostileFolder { path: string; subscribed: boolean; specialUse?: string; messages: HostileMessage[]; uidValidity: number; uidNext: number }
export interface SeedFolder { path: string; subscribed?: boolean; specialUse?: string; messages: Array<{ raw: string | Buffer; flags?: string[]; internalDate?: Date }> }

export interface HostileServer {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Bytes written by the endless-line mode, all connections together. */
  readonly endlessBytes: number;
  folders(): HostileFolder[];
  /**
   * `times`: how many connections the fault hits before the server behaves again (default: every
   * one). A greeting fault hits the next connections; a FETCH fault the next ones that get as far
   * as the FETCH it breaks, so a connection that only lists folders does not use one up.
   */
  setMode(mode: HostileMode, opts?: { times?: number }): void;
  /** Replaces the folder set (e.g. 100,000 folders). */
  seed(folders: SeedFolder[]): void;
  stop(): Promise<void>;
}

const CAPABILITIES = 'IMAP4rev1 UIDPLUS SPECIAL-USE';
const DELIMITER = '/';
export const BAD_KEYWORD = 'bad"kw';
export const HUGE_UID = 4294967296;

function imapDate(d: Date): string {
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}-${months[d.getUTCMonth()]}-${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

function quote(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Splits a command's arguments into atoms, quoted strings and parenthesised lists (kept as raw text). */
function tokens(text: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ') { i++; continue; }
    if (c === '"') {
      let s = '';
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\') i++;
        s += text[i++];
      }
      i++;
      out.push(s);
      continue;
    }
    if (c === '(') {
      let depth = 0;
      const start = i;
      for (; i < text.length; i++) {
        if (text[i] === '(') depth++;
        else if (text[i] === ')' && --depth === 0) { i++; break; }
      }
      out.push(text.slice(start, i));
      continue;
    }
    const start = i;
    while (i < text.length && text[i] !== ' ') {
      if (text[i] === '[') { while (i < text.length && text[i] !== ']') i++; }
      i++;
    }
    out.push(text.slice(start, i));
  }
  return out;
}

/** A sequence set against `max` (the largest sequence number or UID); `*` is `max`. */
function inSet(set: string, value: number, max: number): boolean {
  for (const part of set.split(',')) {
    const [a, b] = part.split(':');
    const from = a === '*' ? max : Number(a);
    const to = b === undefined ? from : b === '*' ? max : Number(b);
    if (value >= Math.min(from, to) && value <= Math.max(from, to)) return true;
  }
  return false;
}

interface Session { socket: net.Socket; selected?: HostileFolder; faulted?: boolean }

export async function startHostileImap(seed: SeedFolder[]): Promise<HostileServer> {
  let folders: HostileFolder[] = [];
  let byPath = new Map<string, HostileFolder>();
  let mode: HostileMode = 'none';
  let faultsLeft = Infinity;
  let accepted = 0;
  let endlessBytes = 0;
  const sockets = new Set<net.Socket>();

  const load = (seedFolders: SeedFolder[]) => {
    folders = seedFolders.map((f, i) => ({
      path: f.path, subscribed: f.subscribed ?? true, specialUse: f.specialUse, uidValidity: 1000 + i, uidNext: f.messages.length + 1,
      messages: f.messages.map((m, n) => ({ raw: Buffer.isBuffer(m.raw) ? m.raw : Buffer.from(m.raw), flags: m.flags ?? [], internalDate: m.internalDate ?? new Date(Date.UTC(2024, 0, 1 + n)), uid: n + 1 })),
    }));
    byPath = new Map(folders.map((f) => [f.path.toUpperCase() === 'INBOX' ? 'INBOX' : f.path, f]));
  };
  load(seed);

  const server = net.createServer((socket) => {
    accepted++;
    sockets.add(socket);
    // Without it, an untagged answer and its tagged OK written apart wait on the client's delayed ACK (40 ms a command).
    socket.setNoDelay(true);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    // A fault hits a connection for its whole life, so a reconnect after `times` faults is clean.
    // Whether it does is settled the first time the connection meets the fault's mode.
    const session: Session = { socket };
    const active = (m: HostileMode) => {
      if (mode !== m) return false;
      if (session.faulted === undefined) {
        session.faulted = faultsLeft > 0;
        if (session.faulted) faultsLeft--;
      }
      return session.faulted;
    };
    if (active('no-greeting')) return;
    socket.write(`* OK [CAPABILITY ${CAPABILITIES}] hostile test server ready\r\n`);
    if (active('greeting-then-silence')) return;
    let buffer = Buffer.alloc(0);
    let pendingLiteral = 0;
    let lineSoFar = '';
    let busy = Promise.resolve();
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        if (pendingLiteral > 0) {
          if (buffer.length < pendingLiteral) return;
          // The literal's bytes are taken as a quoted string (good enough for folder names).
          lineSoFar += quote(buffer.subarray(0, pendingLiteral).toString('latin1'));
          buffer = buffer.subarray(pendingLiteral);
          pendingLiteral = 0;
        }
        const lf = buffer.indexOf(10);
        if (lf < 0) return;
        const line = buffer.subarray(0, lf).toString('latin1').replace(/\r$/, '');
        buffer = buffer.subarray(lf + 1);
        const literal = /\{(\d+)(\+?)\}$/.exec(line);
        if (literal) {
          lineSoFar += line.slice(0, literal.index);
          pendingLiteral = Number(literal[1]);
          if (!literal[2]) socket.write('+ go ahead\r\n');
          continue;
        }
        const full = lineSoFar + line;
        lineSoFar = '';
        busy = busy.then(() => handle(session, full, active)).catch(() => { socket.destroy(); });
      }
    });
  });

  const write = (socket: net.Socket, text: string | Buffer) => {
    if (!socket.destroyed) socket.write(text);
  };

  async function handle(session: Session, line: string, active: (m: HostileMode) => boolean): Promise<void> {
    const { socket } = session;
    const [tag = '*', rawCommand = '', ...args] = tokens(line);
    let command = rawCommand.toUpperCase();
    let uidCommand = false;
    if (command === 'UID') {
      uidCommand = true;
      command = (args.shift() ?? '').toUpperCase();
    }
    const ok = (text = 'done') => write(socket, `${tag} OK ${text}\r\n`);
    switch (command) {
      case 'CAPABILITY':
        write(socket, `* CAPABILITY ${CAPABILITIES}\r\n`);
        return ok();
      case 'LOGIN':
        return ok(`[CAPABILITY ${CAPABILITIES}] logged in`);
      case 'AUTHENTICATE':
        return write(socket, `${tag} NO use LOGIN\r\n`);
      case 'NOOP': case 'CHECK':
        return ok();
      case 'LOGOUT':
        write(socket, '* BYE logging out\r\n');
        ok();
        socket.end();
        return;
      case 'CLOSE': case 'UNSELECT':
        session.selected = undefined;
        return ok();
      case 'NAMESPACE':
        write(socket, `* NAMESPACE (("" "${DELIMITER}")) NIL NIL\r\n`);
        return ok();
      case 'LIST': case 'LSUB':
        return list(session, tag, command, args[1] ?? '*');
      case 'STATUS': {
        const folder = byPath.get(args[0]!.toUpperCase() === 'INBOX' ? 'INBOX' : args[0]!);
        if (!folder) return write(socket, `${tag} NO no such folder\r\n`);
        write(socket, `* STATUS ${quote(folder.path)} (MESSAGES ${folder.messages.length} UIDNEXT ${folder.uidNext} UIDVALIDITY ${folder.uidValidity} UNSEEN 0)\r\n`);
        return ok();
      }
      case 'SELECT': case 'EXAMINE': {
        const folder = byPath.get(args[0]!.toUpperCase() === 'INBOX' ? 'INBOX' : args[0]!);
        if (!folder) return write(socket, `${tag} NO no such folder\r\n`);
        session.selected = folder;
        write(socket, [
          `* ${folder.messages.length} EXISTS`, '* 0 RECENT', '* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)',
          '* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] flags',
          `* OK [UIDVALIDITY ${folder.uidValidity}] uids valid`, `* OK [UIDNEXT ${folder.uidNext}] next uid`, '',
        ].join('\r\n'));
        return ok(command === 'EXAMINE' ? '[READ-ONLY] examined' : '[READ-WRITE] selected');
      }
      case 'SEARCH': {
        const folder = session.selected;
        if (!folder) return write(socket, `${tag} BAD nothing selected\r\n`);
        const uidSet = args[0]?.toUpperCase() === 'UID' ? args[1] : undefined;
        const found = folder.messages.map((m, i) => ({ seq: i + 1, uid: uidOf(m, i, active) }))
          .filter((m) => uidSet === undefined || inSet(uidSet, m.uid, folder.uidNext - 1));
        write(socket, `* SEARCH${found.map((m) => ` ${uidCommand ? m.uid : m.seq}`).join('')}\r\n`);
        return ok();
      }
      case 'FETCH':
        return fetch(session, tag, uidCommand, args[0] ?? '', args.slice(1).join(' '), active);
      default:
        write(socket, `${tag} BAD unknown command ${command}\r\n`);
    }
  }

  function uidOf(message: HostileMessage, index: number, active: (m: HostileMode) => boolean): number {
    return active('huge-uid') && index === 2 ? HUGE_UID : message.uid;
  }

  function list(session: Session, tag: string, command: string, pattern: string): void {
    const { socket } = session;
    if (pattern === '') {
      write(socket, `* ${command} (\\Noselect) "${DELIMITER}" ""\r\n${tag} OK done\r\n`);
      return;
    }
    const matches = (path: string) => pattern === '*' || pattern === '%' || path.toUpperCase() === pattern.toUpperCase();
    // Written in large chunks: 100,000 folders make about 4 MB of LIST.
    const parts: string[] = [];
    for (const folder of folders) {
      if (!matches(folder.path) || (command === 'LSUB' && !folder.subscribed)) continue;
      const attributes = folder.specialUse && command === 'LIST' ? `(\\HasNoChildren ${folder.specialUse})` : '(\\HasNoChildren)';
      parts.push(`* ${command} ${attributes} "${DELIMITER}" ${quote(folder.path)}\r\n`);
      if (parts.length >= 2000) write(socket, parts.splice(0).join(''));
    }
    parts.push(`${tag} OK done\r\n`);
    write(socket, parts.join(''));
  }

  async function fetch(session: Session, tag: string, byUid: boolean, set: string, query: string, active: (m: HostileMode) => boolean): Promise<void> {
    const { socket } = session;
    const folder = session.selected;
    if (!folder) return write(socket, `${tag} BAD nothing selected\r\n`);
    if (active('stops-answering')) return;
    const q = query.toUpperCase();
    const wantsBody = /BODY(\.PEEK)?\[\]/.test(q);
    if (!wantsBody && !q.includes('RFC822.SIZE') && active('refuses-flag-fetch')) return write(socket, `${tag} BAD Invalid message set\r\n`);
    const partial = /BODY(?:\.PEEK)?\[\]<(\d+)\.(\d+)>/.exec(q);
    const maxUid = Math.max(0, ...folder.messages.map((m, i) => uidOf(m, i, active)));
    let sent = 0;
    for (const [i, message] of folder.messages.entries()) {
      const seq = i + 1;
      const uid = uidOf(message, i, active);
      if (!(byUid ? inSet(set, uid, maxUid) : inSet(set, seq, folder.messages.length))) continue;
      const flags = [...message.flags, ...(active('bad-keyword') && seq === 2 ? [BAD_KEYWORD] : [])];
      const items = [`UID ${uid}`];
      // The broken keyword goes out in every answer about message 2, asked for or not (as FLAGS may be).
      if (q.includes('FLAGS') || (active('bad-keyword') && seq === 2)) items.push(`FLAGS (${flags.join(' ')})`);
      if (q.includes('INTERNALDATE')) items.push(`INTERNALDATE "${imapDate(message.internalDate)}"`);
      if (q.includes('RFC822.SIZE')) items.push(`RFC822.SIZE ${message.raw.length}`);
      const head = `* ${seq} FETCH (${items.join(' ')}`;
      if (!wantsBody) {
        write(socket, `${head})\r\n`);
        if (active('duplicate-uid') && seq === 1) write(socket, `${head})\r\n`);
        continue;
      }
      sent++;
      if (active('endless-line')) return endless(socket, `${head} FLAGS (`);
      if (active('bye-mid-fetch') && seq === 2) {
        write(socket, '* BYE server shutting down\r\n');
        socket.end();
        return;
      }
      const start = partial ? Number(partial[1]) : 0;
      const body = partial ? message.raw.subarray(start, start + Number(partial[2])) : message.raw;
      const section = partial ? `BODY[]<${start}>` : 'BODY[]';
      if (active('truncated-literal') && seq === 2) {
        write(socket, Buffer.concat([Buffer.from(`${head} ${section} {${body.length}}\r\n`), body.subarray(0, Math.floor(body.length / 2))]));
        socket.end();
        return;
      }
      const response = Buffer.concat([Buffer.from(`${head} ${section} {${body.length}}\r\n`), body, Buffer.from(')\r\n')]);
      write(socket, response);
      if (active('duplicate-uid') && seq === 1) write(socket, response);
      if (active('unsolicited-fetch') && sent === 1) write(socket, `* 1 FETCH (FLAGS (${folder.messages[0]!.flags.join(' ')}))\r\n`);
      // Backpressure: a slow reader does not make this server buffer a whole folder.
      if (socket.writableLength > 4 * 1024 * 1024) await new Promise((resolve) => socket.once('drain', resolve));
    }
    write(socket, `${tag} OK fetch done\r\n`);
  }

  // Bytes without a line end, as fast as the client takes them, until it goes away.
  async function endless(socket: net.Socket, start: string): Promise<void> {
    write(socket, start);
    const chunk = Buffer.alloc(64 * 1024, 'x');
    let closed = false;
    socket.once('close', () => { closed = true; socket.emit('drain'); });
    while (!closed && !socket.destroyed && socket.writable) {
      endlessBytes += chunk.length;
      if (!socket.write(chunk)) await new Promise((resolve) => socket.once('drain', resolve));
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    host: '127.0.0.1', port,
    get accepted() { return accepted; },
    get endlessBytes() { return endlessBytes; },
    folders: () => folders,
    setMode(next, opts = {}) {
      mode = next;
      faultsLeft = opts.times ?? Infinity;
    },
    seed: load,
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
