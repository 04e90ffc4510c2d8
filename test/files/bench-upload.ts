// Upload bench: `node --import tsx test/files/bench-upload.ts [GB]` (default 2).
// Starts the panel in its own process (a real migration's mailbox, Dovecot behind it), then sends
// a generated file of that size through the resumable protocol in 64 MB PATCHes, cuts the
// connection once in the middle of a chunk, asks where the upload stands (HEAD) and resumes.
// Prints the size, the time, the bytes lost to the cut and the server's peak RSS (VmHWM), as JSON.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';
import { Readable } from 'node:stream';

const CHUNK = 64 * 1024 * 1024;

if (process.argv[2] === '--server') {
  const [{ default: express }, { startMigration }, { createPanel }, { insertUser }, { hashPassword }, { createToken }] = await Promise.all([
    import('express'), import('../support/mailbox-migration.ts'), import('../../server/panel.ts'), import('../../server/db/repos/users.ts'),
    import('../../server/web/passwords.ts'), import('../../server/services/tokens.ts'),
  ]);
  const m = await startMigration({ accounts: [{ address: 'bench@example.test', password: 'bench-pw' }] });
  const mailbox = (await m.mailbox('bench@example.test')).id;
  await insertUser(m.app.db, 'root', await hashPassword('bench password 1'));
  const { token } = await createToken(m.app.db, 'root', 'bench');
  const host = express();
  host.use('/panel', createPanel(m.app));
  const server = host.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as { port: number };
    process.stdout.write(`${JSON.stringify({ port, token, mailbox, dataDir: m.app.config.dataDir })}\n`);
  });
  process.on('SIGTERM', async () => { server.close(); await m.close(); process.exit(0); });
} else {
  const gb = Number(process.argv[2] ?? 2);
  const size = Math.round(gb * 1024 * 1024 * 1024);
  const child = spawn(process.execPath, ['--import', 'tsx', import.meta.filename, '--server'], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, CUTOVER_LOG_LEVEL: 'silent' } });
  const info = await new Promise<{ port: number; token: string; mailbox: number; dataDir: string }>((resolve) => {
    let out = '';
    child.stdout!.on('data', (d) => { out += d; if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]!)); });
  });
  const auth = { authorization: `Bearer ${info.token}` };
  const call = (method: string, url: string, headers: Record<string, string>, body?: Readable | string, cutAfter?: number) => new Promise<{ status: number; headers: Record<string, unknown>; text: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: info.port, path: `/panel${url}`, method, headers: { ...auth, ...headers } }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; }).on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text }));
    });
    req.on('error', (err) => (cutAfter !== undefined ? resolve({ status: 0, headers: {}, text: String(err) }) : reject(err)));
    if (typeof body === 'string' || body === undefined) { req.end(body); return; }
    let sent = 0;
    body.on('data', (chunk: Buffer) => {
      sent += chunk.length;
      if (cutAfter !== undefined && sent > cutAfter) { body.destroy(); req.destroy(new Error('cut')); return; }
      if (!req.write(chunk)) { body.pause(); req.once('drain', () => body.resume()); }
    });
    body.on('end', () => req.end());
  });
  // Deterministic bytes: the same offset always holds the same byte, so a resumed upload can be checked by hash.
  const pattern = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < pattern.length; i++) pattern[i] = (i * 7 + 13) & 0xff;
  const bytes = (from: number, to: number) => Readable.from((function* () {
    for (let at = from; at < to;) {
      const inBlock = at % pattern.length;
      const n = Math.min(pattern.length - inBlock, to - at);
      yield pattern.subarray(inBlock, inBlock + n);
      at += n;
    }
  })());
  const vmHwm = () => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) / 1024;
  const rssBefore = vmHwm();
  const mailboxId = info.mailbox;
  const created = await call('POST', `/api/mailboxes/${mailboxId}/uploads`, { 'content-type': 'application/json' }, JSON.stringify({ name: 'big.mbox', size }));
  if (created.status !== 201) throw new Error(created.text);
  const id = JSON.parse(created.text).id as number;
  const started = Date.now();
  let offset = 0;
  let cut = false;
  let lost = 0;
  while (offset < size) {
    const end = Math.min(size, offset + CHUNK);
    const cutHere = !cut && offset >= size / 2;
    const res = await call('PATCH', `/api/uploads/${id}`, { 'content-type': 'application/offset+octet-stream', 'upload-offset': String(offset) }, bytes(offset, end), cutHere ? 40 * 1024 * 1024 : undefined);
    if (cutHere) {
      cut = true;
      await new Promise((r) => setTimeout(r, 300));
      const head = await call('HEAD', `/api/uploads/${id}`, {});
      const there = Number(head.headers['upload-offset']);
      lost = offset + 40 * 1024 * 1024 - there;
      console.error(`cut at ${offset + 40 * 1024 * 1024}; the server has ${there}; resuming from there`);
      offset = there;
      continue;
    }
    if (res.status !== 204) throw new Error(`PATCH ${offset}: ${res.status} ${res.text}`);
    offset = Number(res.headers['upload-offset']);
  }
  const seconds = (Date.now() - started) / 1000;
  const file = path.join(info.dataDir, 'uploads', String(id), 'big.mbox');
  const hash = createHash('sha256');
  for await (const chunk of bytes(0, size)) hash.update(chunk);
  const expected = hash.digest('hex');
  const got = createHash('sha256');
  const { createReadStream } = await import('node:fs');
  for await (const chunk of createReadStream(file)) got.update(chunk as Buffer);
  const state = JSON.parse((await call('GET', `/api/uploads/${id}`, {})).text).state;
  console.log(JSON.stringify({ bytes: size, seconds, mbPerSecond: Math.round(size / 1048576 / seconds), cutOnce: cut, bytesResentAfterCut: Math.max(0, lost), identical: got.digest('hex') === expected, state, serverPeakRssMb: Math.round(vmHwm()), serverRssBeforeMb: Math.round(rssBefore) }));
  child.kill('SIGTERM');
}
