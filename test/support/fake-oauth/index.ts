import type { Server } from 'node:http';
import express from 'express';
import { FakeGoogle } from './google.ts';
import { FakeMicrosoft } from './microsoft.ts';
import { FakeTokens } from './tokens.ts';

export type { FakeServiceAccount } from './google.ts';
export type { FakeApp } from './microsoft.ts';

export interface FakeOAuth {
  url: string;
  googleTokenUrl: string;
  microsoftTokenUrl(tenant: string): string;
  /** RFC 7662 endpoint for Dovecot's oauth2 passdb (POST token=…): enough for Google's user-bound tokens. */
  introspectionUrl: string;
  /** The same for a server that opens `mailbox` to Microsoft app tokens granted FullAccess there. */
  introspectionUrlFor(mailbox: string): string;
  google: FakeGoogle;
  microsoft: FakeMicrosoft;
  tokens: FakeTokens;
  /** Moves the fake's clock (token expiry, assertion time checks). */
  advance(ms: number): void;
  now(): number;
  /** Requests per path, in order. */
  calls: Array<{ path: string; status: number }>;
  stop(): Promise<void>;
}

/**
 * Google's and Microsoft's OAuth2 token endpoints on 127.0.0.1, built from their documentation:
 * assertions are verified against the key the fake generated, claims and client credentials
 * are checked, errors come in each provider's JSON shape. The tokens it issues are known to its
 * introspection endpoint, which a real Dovecot asks to verify an XOAUTH2 login.
 */
export async function startFakeOAuth(): Promise<FakeOAuth> {
  let offset = 0;
  const now = () => Date.now() + offset;
  const tokens = new FakeTokens(now);
  let base = '';
  const google = new FakeGoogle(tokens, () => `${base}/google/token`, now);
  const microsoft = new FakeMicrosoft(tokens, (tenant) => `${base}/microsoft/${tenant}/oauth2/v2.0/token`);
  const calls: FakeOAuth['calls'] = [];
  const app = express();
  app.disable('x-powered-by');
  app.use((req, res, next) => {
    res.on('finish', () => calls.push({ path: req.path, status: res.statusCode }));
    next();
  });
  app.use(express.urlencoded({ extended: false, limit: '64kb' }));
  app.post('/google/token', google.handle);
  app.post('/microsoft/:tenant/oauth2/v2.0/token', microsoft.handle);
  // RFC 7662: POST token=… (Dovecot's `introspection_mode = post`). Dovecot 2.3.19 expands no
  // variables in the URL and sends no user, so a server standing in for Exchange names the
  // mailbox it serves in the path: /introspect/for/<address>.
  app.post(['/introspect', '/introspect/for/:mailbox'], (req, res) => {
    const token = String((req.body as Record<string, string> | undefined)?.token ?? '');
    res.json(tokens.introspect(token, typeof req.params.mailbox === 'string' ? req.params.mailbox : undefined));
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const port = (server.address() as { port: number }).port;
  base = `http://127.0.0.1:${port}`;
  return {
    url: base,
    googleTokenUrl: `${base}/google/token`,
    microsoftTokenUrl: (tenant) => `${base}/microsoft/${tenant}/oauth2/v2.0/token`,
    introspectionUrl: `${base}/introspect`,
    // "@" is allowed in a path (RFC 3986 pchar) and keeps the URL free of "%", which Dovecot 2.3.19 chokes on.
    introspectionUrlFor: (mailbox) => `${base}/introspect/for/${mailbox}`,
    google, microsoft, tokens, calls,
    advance: (ms) => { offset += ms; },
    now,
    stop: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
