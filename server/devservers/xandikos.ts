// A private Xandikos (CalDAV/CardDAV, a second implementation independent of Radicale) on
// 127.0.0.1. Xandikos has no login of its own (it expects a reverse proxy to do it), so a small
// proxy in this process asks for HTTP Basic credentials and forwards to it: the copy logs in
// exactly as it would to a production server behind Apache or nginx.
import { createHash } from 'node:crypto';
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHttpDaemon } from './dav-process.ts';
import { freePort } from './ports.ts';

const XANDIKOS_BIN = '/usr/bin/xandikos';

export interface XandikosInstance {
  host: '127.0.0.1';
  /** The authenticating proxy's port. */
  port: number;
  url: string;
  dir: string;
  pid: number;
  user: string;
  /** Requests the proxy saw (method, path, SHA-256 of a PUT body), to check what a copy sent: Xandikos re-serialises what it stores. */
  requests: Array<{ method: string; path: string; sha256?: string }>;
  stop(): Promise<void>;
}

export interface XandikosOptions {
  user: string;
  password: string;
  keepDir?: boolean;
  /**
   * Xandikos under this path (its --route-prefix), e.g. '/dav': the proxy answers everything else
   * but /.well-known/ with 404, like a host whose root is a web site, so a client finds the
   * service only through RFC 6764's well-known URIs.
   */
  prefix?: string;
}

function startProxy(port: number, backend: number, authorization: string, requests: XandikosInstance['requests'], prefix?: string): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const seen: XandikosInstance['requests'][number] = { method: req.method ?? '', path: req.url ?? '' };
    requests.push(seen);
    const path = req.url ?? '/';
    if (prefix && !path.startsWith(`${prefix}/`) && path !== prefix && !path.startsWith('/.well-known/')) {
      req.resume();
      res.writeHead(404, { 'content-type': 'text/html' }).end('<html><body>Welcome to our web site</body></html>');
      return;
    }
    if (requests.length > 100_000) requests.splice(0, 50_000);
    if (req.method === 'PUT') {
      const hash = createHash('sha256');
      req.on('data', (chunk: Buffer) => hash.update(chunk));
      req.on('end', () => { seen.sha256 = hash.digest('hex'); });
    }
    if (req.headers.authorization !== authorization) {
      req.resume();
      res.writeHead(401, { 'www-authenticate': 'Basic realm="xandikos"', 'content-type': 'text/plain' }).end('login required');
      return;
    }
    const headers = { ...req.headers };
    delete headers.authorization;
    const forward = http.request({ host: '127.0.0.1', port: backend, method: req.method, path: req.url, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forward.once('error', (err) => { if (!res.headersSent) res.writeHead(502).end(String(err)); else res.destroy(); });
    req.pipe(forward);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

export async function startXandikos(opts: XandikosOptions): Promise<XandikosInstance> {
  const dir = await mkdtemp(join(tmpdir(), 'cutover-xandikos-'));
  const backend = await freePort();
  // Xandikos fails (500) on a principal path with an encoded '@': the path need not be the login.
  const principal = `/${opts.user.replace(/[^A-Za-z0-9._-]/g, '-')}/`;
  let daemon;
  try {
    daemon = await startHttpDaemon(XANDIKOS_BIN, ['-d', join(dir, 'data'), '-l', '127.0.0.1', '-p', String(backend), '--current-user-principal', principal, '--defaults', ...(opts.prefix ? ['--route-prefix', `${opts.prefix}/`] : [])],
      backend, join(dir, 'xandikos.log'), 'xandikos');
  } catch (err) {
    if (!opts.keepDir) await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const requests: XandikosInstance['requests'] = [];
  const authorization = `Basic ${Buffer.from(`${opts.user}:${opts.password}`).toString('base64')}`;
  let proxy: http.Server | undefined;
  let port = 0;
  for (let attempt = 1; !proxy; attempt++) {
    port = await freePort();
    try { proxy = await startProxy(port, backend, authorization, requests, opts.prefix); } catch (err) {
      if (attempt >= 3) { await daemon.stop(); throw err; }
    }
  }
  const server = proxy;
  return {
    host: '127.0.0.1', port, url: `http://127.0.0.1:${port}/`, dir, pid: daemon.pid, user: opts.user, requests,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await daemon.stop();
      if (!opts.keepDir) await rm(dir, { recursive: true, force: true });
    },
  };
}
