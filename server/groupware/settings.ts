// The DAV and ManageSieve settings a platform plugin offers (postfixadmin, imap): one schema, one
// way to turn them into endpoints, so every plugin validates and logs in the same way.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { CutoverError } from '../errors.ts';
import { isLoopback } from '../loopback.ts';
import { hostname } from '../net.ts';
import type { DavEndpoint, SieveEndpoint } from '../plugins/contract.ts';

const secretFields = {
  password: z.string().min(1).meta({ secret: true }).optional(),
  passwordFile: z.string().min(1).optional(),
  passwordEnv: z.string().min(1).optional(),
};
type Secret = { password?: string; passwordFile?: string; passwordEnv?: string };
const oneSecret = (s: Secret) => [s.password, s.passwordFile, s.passwordEnv].filter(Boolean).length === 1;
const ONE_SECRET = 'give exactly one of password, passwordFile, passwordEnv';

export const USER_PLACEHOLDER = '{user}';

/**
 * An admin login for the DAV server, so no account's own password is needed. What real servers
 * offer: Radicale's `from_file` rights (an admin section with `RrWw` on every collection), SOGo's
 * `SOGoSuperUsernames`, Cyrus and DAViCal admins all let one login reach every account's
 * collections under the account's principal path; Radicale's `http_x_remote_user`, SOGo's
 * `SOGoTrustProxyAuthentication` (`x-webobjects-remote-user`) and Cyrus's `Authorize-As` take the
 * account from a header instead. Nextcloud offers neither (each account's own or app password).
 */
export const davAdminSchema = z.object({
  user: z.string().min(1).max(256).meta({ description: 'The admin login the DAV server accepts for every account' }),
  ...secretFields,
  principalPath: z.string().max(500).refine((p) => p.startsWith('/') && p.includes(USER_PLACEHOLDER), `an absolute path containing ${USER_PLACEHOLDER}`)
    .default(`/${USER_PLACEHOLDER}/`).meta({ description: `Each account's principal, ${USER_PLACEHOLDER} being its address: /{user}/ on Radicale, /SOGo/dav/{user}/ on SOGo` }),
  userHeader: z.string().regex(/^[A-Za-z][A-Za-z0-9-]{0,63}$/, 'an HTTP header name').optional()
    .meta({ description: 'A header naming the account on every request, for a server that trusts it from its proxy: X-Remote-User (Radicale), x-webobjects-remote-user (SOGo), Authorize-As (Cyrus)' }),
}).strict().refine(oneSecret, ONE_SECRET);

/** CalDAV/CardDAV next to the mail (Radicale, SOGo, Nextcloud…). */
export const davSettingsSchema = z.object({
  url: z.url().refine((u) => /^https?:/i.test(u), 'an http(s) URL').optional()
    .meta({ description: 'Where discovery starts (a base URL); leave it empty and tick discover to find it from each account\'s domain' }),
  /** Without a URL: RFC 6764 SRV (_caldavs._tcp/_carddavs._tcp) of the account's domain, then /.well-known, then current-user-principal. */
  discover: z.boolean().default(false).meta({ description: 'Find the server from each account\'s domain (RFC 6764: SRV, /.well-known, current-user-principal)' }),
  tlsVerify: z.boolean().default(true),
  caFile: z.string().min(1).optional(),
  allowPlaintext: z.boolean().default(false),
  admin: davAdminSchema.optional(),
}).strict().refine((d) => Boolean(d.url) !== d.discover, { message: 'give url, or discover: true to find the server from each account\'s domain (not both)', path: ['url'] })
  // One password for every account goes only to the server the admin named, never to one a domain's DNS names.
  .refine((d) => !(d.discover && d.admin), { message: 'an admin login is sent only to a server you name: give url instead of discover', path: ['discover'] });

/** ManageSieve (Dovecot Pigeonhole: usually port 4190, STARTTLS). */
export const sieveSettingsSchema = z.object({
  host: hostname,
  port: z.number().int().min(1).max(65535).default(4190),
  security: z.enum(['tls', 'starttls', 'none']).default('starttls'),
  tlsVerify: z.boolean().default(true),
  caFile: z.string().optional(),
  allowPlaintext: z.boolean().default(false),
}).strict().refine((i) => i.security !== 'none' || i.allowPlaintext || isLoopback(i.host), 'security "none" sends passwords in clear: allowed only to a loopback host or with allowPlaintext: true');

export type DavSettings = z.infer<typeof davSettingsSchema>;
export type SieveSettings = z.infer<typeof sieveSettingsSchema>;

/** A secret given as a value, a file or an environment variable, read when used (it may change without an edit). */
export function readSecret(s: Secret, where: string): string {
  if (s.password) return s.password;
  if (s.passwordFile) {
    try { return readFileSync(s.passwordFile, 'utf8').replace(/\r?\n$/, ''); } catch (err) {
      throw new CutoverError('CONFIG_INVALID', { where, detail: `cannot read ${s.passwordFile}: ${(err as Error).message}` });
    }
  }
  const value = process.env[s.passwordEnv!];
  if (!value) throw new CutoverError('CONFIG_INVALID', { where, detail: `environment variable ${s.passwordEnv} is empty` });
  return value;
}

/**
 * The DAV endpoint of `address`: with an admin login, the admin's credentials acting for the
 * account; otherwise the account's own address and password. An empty URL means "discover".
 */
export function davEndpointFrom(dav: DavSettings, address: string, password: string | undefined, plugin: string): DavEndpoint {
  const ca = dav.caFile ? readFileSync(dav.caFile, 'utf8') : undefined;
  const transport = { url: dav.url ?? '', tlsVerify: dav.tlsVerify, ca, allowPlaintext: dav.allowPlaintext };
  if (dav.admin) {
    const principal = dav.admin.principalPath.split(USER_PLACEHOLDER).join(encodeURIComponent(address).replace(/%40/g, '@'));
    return { ...transport, auth: { user: dav.admin.user, pass: readSecret(dav.admin, ` for plugin ${plugin} (dav.admin)`) }, actAs: { user: address, principal, ...(dav.admin.userHeader && { header: dav.admin.userHeader }) } };
  }
  if (!password) throw new CutoverError('CONFIG_INVALID', { where: ` for plugin ${plugin}`, detail: `the DAV server logs in with the account's own password, and none is known for ${address} (or configure dav.admin)` });
  return { ...transport, auth: { user: address, pass: password } };
}

/** The ManageSieve endpoint with the given login (the plugin decides: the account's, a master user, an authorisation identity). */
export function sieveEndpointFrom(sieve: SieveSettings, auth: SieveEndpoint['auth']): SieveEndpoint {
  const ca = sieve.caFile ? readFileSync(sieve.caFile, 'utf8') : undefined;
  return { host: sieve.host, port: sieve.port, security: sieve.security, tlsVerify: sieve.tlsVerify, ca, auth };
}
