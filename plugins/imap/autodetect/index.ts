import { readFileSync } from 'node:fs';
import { ServerResolver } from '../../../server/dns/resolver.ts';
import { parseNameServer, systemNameServers } from '../../../server/dns/transport.ts';
import { CutoverError } from '../../../server/errors.ts';
import { closeQuietly, openImap } from '../../../server/mail/imap.ts';
import { emailAddress } from '../../../server/net.ts';
import type { AutodetectRequest, AutodetectResult, PluginDeps } from '../../../server/plugins/contract.ts';
import { autoconfigCandidates } from './autoconfig.ts';
import { splitAddress, type Candidate } from './candidate.ts';
import { mxCandidates, spfIncludes } from './presets.ts';
import { srvCandidates } from './srv.ts';

/** Errors that say "this server is not the one" (try the next candidate), as opposed to a refused password. */
const NEXT_CANDIDATE = new Set(['HOST_UNREACHABLE', 'TLS_FAILED', 'IMAP_FAILED']);

/**
 * The IMAP settings of an address, in the order a mail client looks for them: RFC 6186 SRV
 * records, Mozilla autoconfig on the domain, then the MX-based presets of the big providers. Each
 * candidate is tried with a login as the address (unless skipped); the first that logs in wins. A
 * refused password stops at once: the server was found, the password is wrong.
 */
export async function autodetect(request: AutodetectRequest, deps?: PluginDeps): Promise<AutodetectResult> {
  const parsed = emailAddress.safeParse(request.address);
  if (!parsed.success) throw new CutoverError('INPUT_INVALID', { detail: `"${request.address}" is not an e-mail address` });
  const address = parsed.data;
  const { domain } = splitAddress(address);
  const servers = request.nameservers.length ? request.nameservers.map(parseNameServer) : systemNameServers();
  const resolver = new ServerResolver(servers);
  const tried: string[] = [];

  const candidates = await srvCandidates(resolver, address, domain, tried);
  if (candidates.length === 0) candidates.push(...await autoconfigCandidates(address, domain, request.autoconfigVia, tried));
  const mx = await mxCandidates(resolver, address, domain, tried);
  if (candidates.length === 0) candidates.push(...mx.candidates);
  if (candidates.length === 0) throw new CutoverError('AUTODETECT_FAILED', { domain, detail: `tried ${tried.join('; ')}` });

  const includes = mx.mx.length ? await spfIncludes(resolver, domain) : [];
  const ca = request.caFile ? readFileSync(request.caFile, 'utf8') : undefined;
  let chosen: Candidate | undefined;
  let login: AutodetectResult['login'];
  let lastError: unknown;
  for (const candidate of candidates) {
    if (request.skipLogin) { chosen = candidate; break; }
    try {
      const client = await openImap({ host: candidate.host, port: candidate.port, security: candidate.security, tlsVerify: true, ca, auth: { user: candidate.login, pass: request.password } }, deps?.log);
      login = { user: candidate.login, capabilities: [...client.capabilities.keys()].sort() };
      await closeQuietly(client);
      chosen = candidate;
      break;
    } catch (err) {
      if (!(err instanceof CutoverError) || !NEXT_CANDIDATE.has(err.code)) throw err;
      tried.push(`${candidate.source} → ${candidate.host}:${candidate.port}: ${err.message}`);
      lastError = err;
    }
  }
  if (!chosen) throw lastError;
  // The account list must then say each user's login: the address will not do on this server.
  if (chosen.login !== address) tried.push(`${chosen.source} logs in as "${chosen.login}", not the address: give each account's source_login in the account list`);

  const config: Record<string, unknown> = {
    host: chosen.host, port: chosen.port, security: chosen.security,
    ...(request.caFile && { caFile: request.caFile }),
    ...(chosen.provider && { provider: chosen.provider }),
    // The domain's MX and SPF today are what its current host expects: the dots of the old platform, and the relay target.
    ...(mx.mx.length && { mailHost: mx.mx[0]!.exchange, expectedDns: { mx: mx.mx, spfIncludes: includes } }),
  };
  return { config, source: chosen.source, tried, ...(login && { login }) };
}
