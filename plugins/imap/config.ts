import { z } from 'zod';
import { isLoopback } from '../../server/loopback.ts';
import { davSettingsSchema, readSecret, sieveSettingsSchema } from '../../server/groupware/settings.ts';
import { oauth2ConfigSchema } from '../../server/mail/oauth2/index.ts';
import { PROVIDER_IDS } from '../../server/mail/providers/index.ts';
import { hostname } from '../../server/net.ts';

const secretFields = {
  password: z.string().min(1).meta({ secret: true }).optional(),
  passwordFile: z.string().min(1).optional(),
  passwordEnv: z.string().min(1).optional(),
};

const oneSecret = (s: { password?: string; passwordFile?: string; passwordEnv?: string }) => [s.password, s.passwordFile, s.passwordEnv].filter(Boolean).length === 1;
const ONE_SECRET = 'give exactly one of password, passwordFile, passwordEnv';

/**
 * How cutover logs in as any user without the user's password:
 * - `master-user`: Dovecot's master user, `user<separator>admin` with the admin's password;
 * - `sasl-authzid`: SASL PLAIN with an authorisation identity (the admin authenticates and acts as
 *   the user): Cyrus (an admin in `admins`/`proxyservers`), Dovecot master users, Zimbra.
 */
const adminLogin = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('master-user'), user: z.string().min(1).max(256), separator: z.string().length(1).default('*'), ...secretFields }).strict().refine(oneSecret, ONE_SECRET),
  z.object({ kind: z.literal('sasl-authzid'), user: z.string().min(1).max(256), ...secretFields }).strict().refine(oneSecret, ONE_SECRET),
]);

export const configSchema = z.object({
  host: hostname.meta({ description: 'IMAP server, e.g. imap.gmail.com' }),
  port: z.number().int().min(1).max(65535).default(993),
  security: z.enum(['tls', 'starttls', 'none']).default('tls'),
  tlsVerify: z.boolean().default(true),
  caFile: z.string().min(1).optional(),
  allowPlaintext: z.boolean().default(false),
  admin: adminLogin.optional(),
  /** Token logins as each user where basic auth is off: a Google service account or a Microsoft app registration. */
  oauth2: oauth2ConfigSchema.optional(),
  /** One of the agreed provider ids: presets (limits, folder rules, OAuth2) apply. */
  provider: z.enum(PROVIDER_IDS).optional(),
  /** Where this platform receives mail: the relay target when another platform attaches a domain. */
  mailHost: hostname.optional(),
  expectedDns: z.object({
    mx: z.array(z.object({ priority: z.number().int().min(0).max(65535), exchange: hostname })).min(1),
    spfIncludes: z.array(hostname).default([]),
  }).optional(),
  maxMessageBytes: z.number().int().positive().optional(),
  maxMailboxBytes: z.number().int().positive().optional(),
  /** Contacts, calendars and tasks (CalDAV/CardDAV) of the accounts; `discover: true` finds the server from each account's domain. */
  dav: davSettingsSchema.optional(),
  /** Mail filters and the auto-reply (ManageSieve); logs in like IMAP, the admin login included. */
  sieve: sieveSettingsSchema.optional(),
}).strict()
  .refine((c) => c.security !== 'none' || c.allowPlaintext || isLoopback(c.host), { message: 'security "none" sends passwords in clear: allowed only to a loopback host or with allowPlaintext: true', path: ['security'] })
  .refine((c) => !(c.admin && c.oauth2), { message: 'give an admin login or oauth2, not both: each logs in as any user', path: ['oauth2'] });

export type ImapConfig = z.infer<typeof configSchema>;
export type AdminLogin = NonNullable<ImapConfig['admin']>;

/** The admin's password, read when used (a file or variable can change without editing the platform). */
export function readAdminPassword(admin: AdminLogin): string {
  return readSecret(admin, ' for plugin imap (admin)');
}
