import { SMTPServer } from 'smtp-server';

export interface Received { from: string; to: string[]; subject: string; text: string; headers: string; user?: string }

function decodeWords(header: string): string {
  return header.replace(/\r?\n[ \t]/g, ' ').replace(/=\?utf-8\?([qb])\?([^?]*)\?=\s*(?==\?)?/gi, (_, enc: string, data: string) =>
    enc.toLowerCase() === 'b' ? Buffer.from(data, 'base64').toString('utf8')
      : Buffer.from(data.replace(/_/g, ' ').replace(/=([0-9a-f]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1').toString('utf8'));
}

function decodeBody(headers: string, body: string): string {
  const encoding = /^content-transfer-encoding:\s*(\S+)/im.exec(headers)?.[1]?.toLowerCase();
  if (encoding === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (encoding === 'quoted-printable') return Buffer.from(body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1').toString('utf8');
  return body;
}

/**
 * A real SMTP server on 127.0.0.1 (the smtp-server package) that keeps what it receives, decoded
 * enough to read the subject and the plain-text body. `refuse` makes it answer 451 to every
 * recipient, as a server in trouble would.
 */
export async function startSmtpSink(opts: { users?: Record<string, string> } = {}): Promise<{ port: number; received: Received[]; refuse: boolean; close(): Promise<void> }> {
  const state = { received: [] as Received[], refuse: false };
  const server = new SMTPServer({
    secure: false, disabledCommands: ['STARTTLS'], authOptional: !opts.users, allowInsecureAuth: true, logger: false,
    onAuth(auth, _session, callback) {
      if (opts.users && opts.users[auth.username ?? ''] === auth.password) return callback(null, { user: auth.username });
      return callback(new Error('invalid credentials'));
    },
    onRcptTo(_address, _session, callback) {
      if (state.refuse) { const err = new Error('try again later') as Error & { responseCode: number }; err.responseCode = 451; return callback(err); }
      return callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('latin1');
        const split = raw.indexOf('\r\n\r\n');
        const headers = raw.slice(0, split);
        const subject = /^subject:(.*(?:\r\n[ \t].*)*)/im.exec(headers)?.[1]?.trim() ?? '';
        state.received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address),
          subject: decodeWords(subject), text: decodeBody(headers, raw.slice(split + 4)), headers, user: session.user as string | undefined,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(0, '127.0.0.1', () => resolve()); });
  const { port } = server.server.address() as { port: number };
  return {
    port, received: state.received,
    get refuse() { return state.refuse; },
    set refuse(value: boolean) { state.refuse = value; },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
