import http from 'node:http';
import https from 'node:https';
import { hostname } from '../../../server/net.ts';
import { splitAddress, stripDot, type Candidate } from './candidate.ts';

/** A config-v1.1.xml is a few KB; anything larger is not one. */
const MAX_BYTES = 64 * 1024;
const TIMEOUT_MS = 5_000;
const MAX_REDIRECTS = 2;
const MAX_SERVERS = 8;

interface Fetched { status: number; body: string; location?: string }

/**
 * GET with a size cap and a deadline. `via` sends the request to HOST:PORT over plain HTTP with
 * the real host in the Host header: tests (a local server) and forward proxies.
 */
function get(url: URL, via: string | undefined): Promise<Fetched> {
  return new Promise((resolve, reject) => {
    const [viaHost, viaPort] = via ? [via.slice(0, via.lastIndexOf(':')), Number(via.slice(via.lastIndexOf(':') + 1))] : [];
    const options = via
      ? { host: viaHost, port: viaPort, path: url.pathname + url.search, headers: { host: url.host, accept: 'application/xml, text/xml' } }
      : { host: url.hostname, port: url.port || 443, path: url.pathname + url.search, servername: url.hostname, headers: { accept: 'application/xml, text/xml' } };
    const request = (via ? http : https).get({ ...options, timeout: TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BYTES) { request.destroy(new Error(`answer larger than ${MAX_BYTES} bytes`)); return; }
        chunks.push(chunk);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), location: res.headers.location }));
      res.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`no answer within ${TIMEOUT_MS / 1000} s`)));
    request.on('error', reject);
  });
}

async function fetchConfig(url: URL, via: string | undefined): Promise<string> {
  let current = url;
  for (let hop = 0; ; hop++) {
    const answer = await get(current, via);
    if (answer.status >= 300 && answer.status < 400 && answer.location && hop < MAX_REDIRECTS) {
      const next = new URL(answer.location, current);
      // A redirect may not downgrade the settings' transport: they decide where passwords go.
      if (next.protocol !== 'https:' && !via) throw new Error(`redirect to ${next.protocol} refused`);
      current = next;
      continue;
    }
    if (answer.status !== 200) throw new Error(`HTTP ${answer.status}`);
    return answer.body;
  }
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function text(xml: string, tag: string): string | undefined {
  const match = new RegExp(`<${tag}(?:\\s[^>]*)?>([^<]{0,512})</${tag}>`).exec(xml);
  return match?.[1]!.replace(/&(amp|lt|gt|quot|apos);/g, (_, e: string) => ENTITIES[e]!).trim();
}

/**
 * The IMAP servers of a Mozilla autoconfig document (config-v1.1.xml), in its order: the
 * `incomingServer type="imap"` elements with a valid host, a port, SSL or STARTTLS (a "plain"
 * server is left out: the test login would send the password in clear), and the user name with
 * its placeholders filled in. Read with regular expressions over a size-capped text: no DTD, no
 * entity expansion beyond the five XML ones.
 */
export function parseAutoconfig(xml: string, address: string, source: string, tried: string[]): Candidate[] {
  if (!/<clientConfig[\s>]/.test(xml)) { tried.push(`${source}: not an autoconfig document`); return []; }
  const { local, domain } = splitAddress(address);
  const found: Candidate[] = [];
  const blocks = [...xml.matchAll(/<incomingServer\s+type\s*=\s*["']imap["']\s*>([\s\S]*?)<\/incomingServer>/g)].slice(0, MAX_SERVERS);
  for (const [, block] of blocks) {
    const host = stripDot(text(block!, 'hostname') ?? '');
    const port = Number(text(block!, 'port'));
    const socket = (text(block!, 'socketType') ?? '').toUpperCase();
    const user = (text(block!, 'username') ?? '%EMAILADDRESS%').replace(/%EMAILADDRESS%/g, address).replace(/%EMAILLOCALPART%/g, local).replace(/%EMAILDOMAIN%/g, domain);
    if (!hostname.safeParse(host).success || host.includes('%')) { tried.push(`${source}: host "${host.slice(0, 80)}" is not usable`); continue; }
    if (!Number.isInteger(port) || port < 1 || port > 65535) { tried.push(`${source}: ${host} has no valid port`); continue; }
    const security = socket === 'SSL' ? 'tls' : socket === 'STARTTLS' ? 'starttls' : null;
    if (!security) { tried.push(`${source}: ${host}:${port} is "${socket || 'plain'}" (no TLS), not used`); continue; }
    if (!user || user.length > 256 || /%[A-Z]+%/.test(user)) { tried.push(`${source}: ${host} user name "${user.slice(0, 80)}" not understood`); continue; }
    found.push({ host, port, security, login: user, source });
  }
  if (blocks.length === 0) tried.push(`${source}: no IMAP server in it`);
  return found;
}

/** Thunderbird's two places on the domain itself: autoconfig.<domain>, then <domain>/.well-known/autoconfig/. */
export async function autoconfigCandidates(address: string, domain: string, via: string | undefined, tried: string[]): Promise<Candidate[]> {
  const scheme = via ? 'http' : 'https';
  const urls = [
    new URL(`${scheme}://autoconfig.${domain}/mail/config-v1.1.xml?emailaddress=${encodeURIComponent(address)}`),
    new URL(`${scheme}://${domain}/.well-known/autoconfig/mail/config-v1.1.xml`),
  ];
  for (const url of urls) {
    const source = `autoconfig ${url.host}${url.pathname}`;
    try {
      const found = parseAutoconfig(await fetchConfig(url, via), address, source, tried);
      if (found.length) return found;
    } catch (err) {
      tried.push(`${source}: ${(err as Error).message}`);
    }
  }
  return [];
}
