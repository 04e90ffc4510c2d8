import { CutoverError } from '../../errors.ts';
import type { TokenResponse } from './http.ts';

export interface ErrorContext { endpoint: string; client: string; address?: string }

const text = (value: unknown) => (typeof value === 'string' ? value : '').slice(0, 300);
const forUser = (ctx: ErrorContext) => (ctx.address ? ` for ${ctx.address}` : '');
const retryable = (status: number) => status >= 500 || status === 429;

const GOOGLE = 'Google';
const MICROSOFT = 'Microsoft Entra ID';

const googleFix = {
  consent: 'In the Google Admin console, Security → Access and data control → API controls → Manage domain-wide delegation: add the service account\'s client ID with the scope https://mail.google.com/ (it can take some minutes to apply).',
  key: 'Create a new key for the service account (Google Cloud console → IAM → Service accounts → Keys) and store the new JSON key in the platform\'s configuration.',
  client: 'The service account was deleted or disabled: enable it in the Google Cloud console (IAM → Service accounts), or create one and grant it domain-wide delegation.',
  policy: 'A Workspace policy blocks this service account: allow it under Security → API controls in the Google Admin console.',
};

// Error shapes from Google's "Using OAuth 2.0 for Server to Server Applications" (error codes
// table): {"error": "...", "error_description": "..."} with HTTP 400 or 401.
export function googleTokenError(res: TokenResponse, ctx: ErrorContext): CutoverError {
  const error = text(res.body.error);
  const description = text(res.body.error_description);
  const detail = description ? `${error}: ${description}` : error || `HTTP ${res.status}`;
  const base = { provider: GOOGLE, client: ctx.client, address: ctx.address ?? '', endpoint: ctx.endpoint, forUser: forUser(ctx), detail };
  if (error === 'unauthorized_client' || error === 'access_denied') return new CutoverError('OAUTH2_CONSENT_MISSING', { ...base, fix: googleFix.consent });
  if (error === 'admin_policy_enforced') return new CutoverError('OAUTH2_CONSENT_MISSING', { ...base, fix: googleFix.policy });
  if (error === 'invalid_client' || error === 'disabled_client') return new CutoverError('OAUTH2_CLIENT_UNKNOWN', { ...base, fix: googleFix.client });
  if (error === 'invalid_grant') {
    if (/signature/i.test(description)) return new CutoverError('OAUTH2_KEY_REJECTED', { ...base, fix: googleFix.key });
    if (/email or user id/i.test(description)) return new CutoverError('OAUTH2_USER_UNKNOWN', base);
    if (/account not found/i.test(description)) return new CutoverError('OAUTH2_CLIENT_UNKNOWN', { ...base, fix: googleFix.client });
    if (/short-lived|timeframe|iat|exp/i.test(description)) return new CutoverError('OAUTH2_TOKEN_FAILED', { ...base, fix: ' Check the clock of this machine (the assertion\'s iat/exp must be within minutes of Google\'s time).' }, { retryable: true });
  }
  return new CutoverError('OAUTH2_TOKEN_FAILED', { ...base, fix: '' }, { retryable: retryable(res.status) });
}

const microsoftFix = {
  secret: 'Create a new client secret under Certificates & secrets of the app registration and store its Value (not its Secret ID).',
  app: 'Check the application (client) id and the tenant; an app registered in another tenant needs that tenant\'s admin consent.',
  certificate: 'Upload this certificate to the app registration (Certificates & secrets), or store the certificate the app registration has.',
  consent: 'Grant admin consent for the Office 365 Exchange Online permission IMAP.AccessAsApp under API permissions of the app registration.',
};

// Microsoft identity platform errors: {"error", "error_description": "AADSTS<n>: …", "error_codes": [n],
// "timestamp", "trace_id", "correlation_id"}; the AADSTS number says what is wrong.
export function microsoftTokenError(res: TokenResponse, ctx: ErrorContext): CutoverError {
  const description = text(res.body.error_description).split(/\r?\n/)[0]!;
  const codes = Array.isArray(res.body.error_codes) ? res.body.error_codes.map(Number) : [];
  const aadsts = codes[0] ?? Number(/AADSTS(\d+)/.exec(description)?.[1] ?? NaN);
  const detail = description || text(res.body.error) || `HTTP ${res.status}`;
  const base = { provider: MICROSOFT, client: ctx.client, address: ctx.address ?? '', endpoint: ctx.endpoint, forUser: forUser(ctx), detail };
  switch (aadsts) {
    case 7000215: case 7000222: return new CutoverError('OAUTH2_SECRET_INVALID', { ...base, fix: microsoftFix.secret });
    case 700016: case 7000112: return new CutoverError('OAUTH2_CLIENT_UNKNOWN', { ...base, fix: microsoftFix.app });
    case 700027: case 700023: return new CutoverError('OAUTH2_KEY_REJECTED', { ...base, fix: microsoftFix.certificate });
    case 65001: return new CutoverError('OAUTH2_CONSENT_MISSING', { ...base, fix: microsoftFix.consent });
    case 90002: return new CutoverError('OAUTH2_TOKEN_FAILED', { ...base, fix: ' Check the tenant: its directory id or one of its verified domains.' });
    case 700024: return new CutoverError('OAUTH2_TOKEN_FAILED', { ...base, fix: ' Check the clock of this machine.' }, { retryable: true });
    default: return new CutoverError('OAUTH2_TOKEN_FAILED', { ...base, fix: '' }, { retryable: retryable(res.status) });
  }
}
