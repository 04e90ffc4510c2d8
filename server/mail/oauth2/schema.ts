import { z } from 'zod';

export const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';
/** Full IMAP access for a Workspace user, the only scope Gmail accepts for XOAUTH2. */
export const GOOGLE_MAIL_SCOPE = 'https://mail.google.com/';
export const MICROSOFT_LOGIN_HOST = 'https://login.microsoftonline.com';
/** The Exchange Online resource with the IMAP.AccessAsApp role granted to the app. */
export const MICROSOFT_IMAP_SCOPE = 'https://outlook.office365.com/.default';

const pem = (label: string) => z.string().min(1).refine((text) => text.includes(`-----BEGIN ${label}`), `must be a PEM ${label.toLowerCase()} (-----BEGIN ${label}…)`);
const httpsUrl = z.string().url().refine((u) => /^https:\/\//.test(u) || /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(u), 'must be an https:// URL (http:// only on the loopback address)');

/** Google Workspace: a service account with domain-wide delegation signs a JWT per user (RFC 7523). */
export const googleServiceAccountSchema = z.object({
  kind: z.literal('google-service-account'),
  /** `client_email` of the JSON key. */
  clientEmail: z.string().email().meta({ description: 'client_email of the service account JSON key' }),
  /** `private_key` of the JSON key (PKCS#8 PEM). */
  privateKey: pem('PRIVATE KEY').meta({ secret: true, description: 'private_key of the service account JSON key' }),
  /** `private_key_id` of the JSON key: Google picks the public key by it (JWT header `kid`). */
  privateKeyId: z.string().min(1).max(200).optional(),
  tokenUrl: httpsUrl.optional().meta({ description: 'Token endpoint (default: the provider\'s own)' }),
  scope: z.string().min(1).max(500).optional().meta({ description: 'Scope asked for (default: IMAP access on that provider)' }),
}).strict();

/** Microsoft 365: an app registration with the IMAP.AccessAsApp permission, client credentials grant. */
export const microsoftClientCredentialsSchema = z.object({
  kind: z.literal('microsoft-client-credentials'),
  /** Directory (tenant) id or a verified domain of the tenant. */
  tenant: z.string().min(1).max(200).regex(/^[A-Za-z0-9.-]+$/, 'a tenant id (GUID) or a domain name'),
  clientId: z.string().min(1).max(200).meta({ description: 'Application (client) id' }),
  clientSecret: z.string().min(1).max(1000).meta({ secret: true, description: 'Client secret value (or use a certificate)' }).optional(),
  /** The certificate uploaded to the app registration (PEM), with its private key, instead of a secret. */
  certificate: pem('CERTIFICATE').optional(),
  certificateKey: pem('PRIVATE KEY').meta({ secret: true }).optional(),
  tokenUrl: httpsUrl.optional().meta({ description: 'Token endpoint (default: the provider\'s own)' }),
  scope: z.string().min(1).max(500).optional().meta({ description: 'Scope asked for (default: IMAP access on that provider)' }),
}).strict().refine((c) => Boolean(c.clientSecret) !== Boolean(c.certificate && c.certificateKey), 'give either clientSecret, or certificate with certificateKey');

export const oauth2ConfigSchema = z.discriminatedUnion('kind', [googleServiceAccountSchema, microsoftClientCredentialsSchema]);

export type OAuth2Config = z.infer<typeof oauth2ConfigSchema>;
export type GoogleServiceAccountConfig = z.infer<typeof googleServiceAccountSchema>;
export type MicrosoftClientCredentialsConfig = z.infer<typeof microsoftClientCredentialsSchema>;

/**
 * Accepts the JSON key file Google hands out (`type: service_account`, snake_case) as well as a
 * config in this schema's own shape, so `--source-oauth2-config` can point at the downloaded key.
 */
export function parseOAuth2Config(input: unknown): OAuth2Config {
  const raw = input as Record<string, unknown> | null;
  if (raw && typeof raw === 'object' && raw.type === 'service_account') {
    return oauth2ConfigSchema.parse({
      kind: 'google-service-account', clientEmail: raw.client_email, privateKey: raw.private_key,
      ...(typeof raw.private_key_id === 'string' && { privateKeyId: raw.private_key_id }),
      ...(typeof raw.token_uri === 'string' && { tokenUrl: raw.token_uri }),
    });
  }
  return oauth2ConfigSchema.parse(input);
}
