import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import type { Request, Response } from 'express';
import { decodeJwt, verifyRs256 } from './jwt.ts';
import type { FakeTokens } from './tokens.ts';

export interface FakeServiceAccount {
  clientEmail: string;
  /** The numeric client ID the Admin console's domain-wide delegation screen asks for. */
  clientId: string;
  privateKey: string;
  privateKeyId: string;
  /** The JSON key file as Google hands it out. */
  keyFile: Record<string, string>;
}

interface AccountState { clientId: string; disabled: boolean; keys: Map<string, { publicKey: KeyObject; revoked: boolean }> }

// Errors as Google's token endpoint answers them (developers.google.com "Using OAuth 2.0 for
// Server to Server Applications", error codes): {"error", "error_description"}.
const ERRORS = {
  signature: [400, 'invalid_grant', 'Invalid JWT Signature.'],
  lifetime: [400, 'invalid_grant', 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.'],
  audience: [400, 'invalid_grant', 'Invalid JWT: Failed audience check.'],
  account: [400, 'invalid_grant', 'Invalid grant: account not found'],
  user: [400, 'invalid_grant', 'Invalid email or User ID'],
  disabled: [400, 'disabled_client', 'The OAuth client was disabled.'],
  delegation: [401, 'unauthorized_client', 'Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.'],
  scope: [400, 'invalid_scope', 'Invalid OAuth scope or ID token audience provided.'],
  grantType: [400, 'unsupported_grant_type', 'Invalid grant_type: '],
  request: [400, 'invalid_request', 'Invalid JWT: could not parse the assertion.'],
} as const;

const SKEW_SECONDS = 300;

export class FakeGoogle {
  private readonly accounts = new Map<string, AccountState>();
  /** Domain-wide delegation: client ID → scopes the Workspace admin granted. */
  private readonly delegations = new Map<string, Set<string>>();
  private readonly users = new Set<string>();
  readonly imapDisabled = new Set<string>();

  constructor(private readonly tokens: FakeTokens, private readonly tokenUrl: () => string, private readonly now: () => number) {}

  addUser(address: string): void {
    this.users.add(address.toLowerCase());
  }

  addServiceAccount(name = 'migrator'): FakeServiceAccount {
    const clientEmail = `${name}@cutover-test.iam.gserviceaccount.com`;
    const clientId = String(100_000_000_000_000_000_000n + BigInt(this.accounts.size + 1));
    this.accounts.set(clientEmail, { clientId, disabled: false, keys: new Map() });
    return this.addKey(clientEmail);
  }

  /** A further key of the same account (Google allows up to ten). */
  addKey(clientEmail: string): FakeServiceAccount {
    const account = this.accounts.get(clientEmail)!;
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const privateKeyId = randomBytes(20).toString('hex');
    account.keys.set(privateKeyId, { publicKey, revoked: false });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    return {
      clientEmail, clientId: account.clientId, privateKey: pem, privateKeyId,
      keyFile: {
        type: 'service_account', project_id: 'cutover-test', private_key_id: privateKeyId, private_key: pem, client_email: clientEmail,
        client_id: account.clientId, auth_uri: 'https://accounts.google.com/o/oauth2/auth', token_uri: this.tokenUrl(),
      },
    };
  }

  revokeKey(clientEmail: string, privateKeyId: string): void {
    this.accounts.get(clientEmail)!.keys.get(privateKeyId)!.revoked = true;
  }

  disable(clientEmail: string): void {
    this.accounts.get(clientEmail)!.disabled = true;
  }

  grantDelegation(clientId: string, scopes: string[] = ['https://mail.google.com/']): void {
    this.delegations.set(clientId, new Set(scopes));
  }

  revokeDelegation(clientId: string): void {
    this.delegations.delete(clientId);
  }

  handle = (req: Request, res: Response): void => {
    const fail = ([status, error, description]: readonly [number, string, string], extra = '') => {
      res.status(status).json({ error, error_description: description + extra });
    };
    const body = (req.body ?? {}) as Record<string, string>;
    if (body.grant_type !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') return fail(ERRORS.grantType, String(body.grant_type ?? ''));
    const jwt = typeof body.assertion === 'string' ? decodeJwt(body.assertion) : undefined;
    if (!jwt) return fail(ERRORS.request);
    const { iss, sub, scope, aud, iat, exp } = jwt.claims as Record<string, unknown>;
    const account = typeof iss === 'string' ? this.accounts.get(iss) : undefined;
    if (!account) return fail(ERRORS.account);
    if (account.disabled) return fail(ERRORS.disabled);
    const kid = typeof jwt.header.kid === 'string' ? jwt.header.kid : undefined;
    const candidates = [...account.keys.entries()].filter(([id, key]) => !key.revoked && (!kid || id === kid));
    if (!candidates.some(([, key]) => verifyRs256(jwt, key.publicKey))) return fail(ERRORS.signature);
    if (aud !== this.tokenUrl()) return fail(ERRORS.audience);
    const now = Math.floor(this.now() / 1000);
    if (typeof iat !== 'number' || typeof exp !== 'number' || iat > now + SKEW_SECONDS || exp < now - SKEW_SECONDS || exp <= iat || exp - iat > 3600) return fail(ERRORS.lifetime);
    if (typeof scope !== 'string' || !scope) return fail(ERRORS.scope);
    if (typeof sub !== 'string' || !this.users.has(sub.toLowerCase())) return fail(ERRORS.user);
    const granted = this.delegations.get(account.clientId);
    if (!granted || !scope.split(' ').every((s) => granted.has(s))) return fail(ERRORS.delegation);
    const subject = sub.toLowerCase();
    // A Google token is the user's own: it opens that mailbox only.
    const token = this.tokens.issue({ provider: 'google', subject, opens: (user) => user === subject && !this.imapDisabled.has(subject) });
    res.status(200).json({ access_token: token.value, expires_in: token.expiresIn, token_type: 'Bearer' });
  };
}
