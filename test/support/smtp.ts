import { connect, type Socket } from 'node:net';

/** One SMTP reply: the code and its text lines joined. */
export interface SmtpReply { code: number; text: string }

export interface SmtpSession {
  /** Sends one command line and reads its (possibly multi-line) reply. */
  command(line: string): Promise<SmtpReply>;
  /** DATA, the message (dot-stuffed here), the final dot: the reply to the message. */
  data(message: string): Promise<SmtpReply>;
  close(): Promise<void>;
}

const REPLY_TIMEOUT_MS = 30_000;

/**
 * A bare SMTP client that shows every reply as the server sent it, so a test can assert what
 * happened at RCPT (nodemailer folds per-recipient refusals into one error).
 */
export async function openSmtp(host: string, port: number, helo = 'client.example.net'): Promise<SmtpSession> {
  const socket: Socket = connect({ host, port });
  socket.setEncoding('latin1');
  let buffer = '';
  let waiting: { resolve(r: SmtpReply): void; reject(e: Error): void } | undefined;
  let failure: Error | undefined;
  const pump = () => {
    if (!waiting) return;
    // A reply ends at the line whose fourth character is a space ("250 ok"), not a dash ("250-…").
    const lines = buffer.split('\r\n');
    const last = lines.findIndex((line) => /^\d{3}( |$)/.test(line));
    if (last < 0) return;
    const reply = { code: Number(lines[last]!.slice(0, 3)), text: lines.slice(0, last + 1).map((line) => line.slice(4)).join('\n') };
    buffer = lines.slice(last + 1).join('\r\n');
    const w = waiting;
    waiting = undefined;
    w.resolve(reply);
  };
  const fail = (err: Error) => {
    failure = err;
    waiting?.reject(err);
    waiting = undefined;
  };
  socket.on('data', (chunk: string) => { buffer += chunk; pump(); });
  socket.on('error', fail);
  socket.on('close', () => fail(new Error(`SMTP connection to ${host}:${port} closed`)));
  const read = () => new Promise<SmtpReply>((resolve, reject) => {
    if (failure) return reject(failure);
    const timer = setTimeout(() => fail(new Error(`no SMTP reply from ${host}:${port} within ${REPLY_TIMEOUT_MS} ms`)), REPLY_TIMEOUT_MS);
    waiting = { resolve: (r) => { clearTimeout(timer); resolve(r); }, reject: (e) => { clearTimeout(timer); reject(e); } };
    pump();
  });
  const command = (line: string) => { socket.write(`${line}\r\n`); return read(); };
  const greeting = await read();
  if (greeting.code !== 220) throw new Error(`SMTP greeting from ${host}:${port}: ${greeting.code} ${greeting.text}`);
  const ehlo = await command(`EHLO ${helo}`);
  if (ehlo.code !== 250) throw new Error(`EHLO: ${ehlo.code} ${ehlo.text}`);
  return {
    command,
    async data(message) {
      const go = await command('DATA');
      if (go.code !== 354) return go;
      const body = message.replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..');
      socket.write(`${body}${body.endsWith('\r\n') ? '' : '\r\n'}.\r\n`);
      return read();
    },
    async close() {
      if (!failure) await command('QUIT').catch(() => undefined);
      socket.destroy();
    },
  };
}
