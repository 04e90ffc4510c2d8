import { certificateThumbprint, jwtId, signRs256 } from './jwt.ts';
import { grantFrom, postTokenForm, type FetchLike } from './http.ts';
import { googleTokenError, microsoftTokenError } from './provider-errors.ts';
import {
  GOOGLE_MAIL_SCOPE, GOOGLE_TOKEN_URL, MICROSOFT_IMAP_SCOPE, MICROSOFT_LOGIN_HOST,
  type GoogleServiceAccountConfig, type MicrosoftClientCredentialsConfig, type OAuth2Config,
} from './schema.ts';

export interface Grant { accessToken: string; expiresInSeconds: number }

export interface GrantDeps { fetch: FetchLike; now: () => number; timeoutMs: number }

/** One way of obtaining a token: per user (Google) or one for the whole app (Microsoft). */
export interface GrantType {
  /** Tokens with the same key are shared. */
  cacheKey(address: string): string;
  request(address: string): Promise<Grant>;
}

/** Google's JWT assertion lives at most one hour (iat to exp). */
const GOOGLE_ASSERTION_SECONDS = 3_600;
/** A client assertion is used once, right away. */
const MICROSOFT_ASSERTION_SECONDS = 600;

// RFC 7523 §2.1 with Google's claims: iss = the service account, sub = the user it acts for.
function googleGrant(config: GoogleServiceAccountConfig, deps: GrantDeps): GrantType {
  const endpoint = config.tokenUrl ?? GOOGLE_TOKEN_URL;
  return {
    cacheKey: (address) => address.toLowerCase(),
    async request(address) {
      const now = Math.floor(deps.now() / 1000);
      const assertion = signRs256(config.privateKeyId ? { kid: config.privateKeyId } : {}, {
        iss: config.clientEmail, sub: address, scope: config.scope ?? GOOGLE_MAIL_SCOPE, aud: endpoint, iat: now, exp: now + GOOGLE_ASSERTION_SECONDS,
      }, config.privateKey);
      const res = await postTokenForm(endpoint, { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }, 'Google', deps.fetch, deps.timeoutMs);
      const grant = grantFrom(res);
      if (!grant) throw googleTokenError(res, { endpoint, client: config.clientEmail, address });
      return grant;
    },
  };
}

// Client credentials (RFC 6749 §4.4): the token is the application's; IMAP then logs in as each
// user's address, which Exchange allows once the app's service principal has FullAccess there.
function microsoftGrant(config: MicrosoftClientCredentialsConfig, deps: GrantDeps): GrantType {
  const endpoint = config.tokenUrl ?? `${MICROSOFT_LOGIN_HOST}/${encodeURIComponent(config.tenant)}/oauth2/v2.0/token`;
  return {
    cacheKey: () => '',
    async request() {
      const form: Record<string, string> = { client_id: config.clientId, scope: config.scope ?? MICROSOFT_IMAP_SCOPE, grant_type: 'client_credentials' };
      if (config.clientSecret) {
        form.client_secret = config.clientSecret;
      } else {
        const now = Math.floor(deps.now() / 1000);
        form.client_assertion_type = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
        form.client_assertion = signRs256({ x5t: certificateThumbprint(config.certificate!) }, {
          aud: endpoint, iss: config.clientId, sub: config.clientId, jti: jwtId(), nbf: now, iat: now, exp: now + MICROSOFT_ASSERTION_SECONDS,
        }, config.certificateKey!);
      }
      const res = await postTokenForm(endpoint, form, 'Microsoft Entra ID', deps.fetch, deps.timeoutMs);
      const grant = grantFrom(res);
      if (!grant) throw microsoftTokenError(res, { endpoint, client: config.clientId });
      return grant;
    },
  };
}

export function grantFor(config: OAuth2Config, deps: GrantDeps): GrantType {
  return config.kind === 'google-service-account' ? googleGrant(config, deps) : microsoftGrant(config, deps);
}
