import { createHash, generateKeyPairSync, randomBytes, randomUUID, X509Certificate } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Request, Response } from 'express';
import { decodeJwt, verifyRs256 } from './jwt.ts';
import type { FakeTokens } from './tokens.ts';

export interface FakeApp {
  tenant: string;
  clientId: string;
  clientSecret: string;
  /** A certificate uploaded to the app registration, and its private key. */
  certificate: string;
  certificateKey: string;
}

interface AppState { tenant: string; secrets: Map<string, { expired: boolean }>; certificates: Map<string, string>; consented: boolean; mailboxes: Set<string> }

export const IMAP_SCOPE = 'https://outlook.office365.com/.default';

// Errors as the Microsoft identity platform answers them: AADSTS code first in error_description,
// then trace and correlation ids and a timestamp; error_codes carries the number.
const ERRORS = {
  tenant: [400, 'invalid_request', 90002, (t: string) => `Tenant '${t}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`],
  app: [400, 'unauthorized_client', 700016, (id: string, t: string) => `Application with identifier '${id}' was not found in the directory '${t}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.`],
  secret: [401, 'invalid_client', 7000215, (id: string) => `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${id}'.`],
  expired: [401, 'invalid_client', 7000222, (id: string) => `The provided client secret keys for app '${id}' are expired.`],
  assertion: [401, 'invalid_client', 700027, () => 'Client assertion contains an invalid signature.'],
  audience: [401, 'invalid_client', 700023, () => 'Client assertion audience claim does not match Realm issuer.'],
  missing: [401, 'invalid_client', 7000218, () => "The request body must contain the following parameter: 'client_assertion' or 'client_secret'."],
  scope: [400, 'invalid_scope', 1002012, () => 'The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).'],
  grantType: [400, 'unsupported_grant_type', 70003, () => 'The app requested an unsupported grant type.'],
} as const;

export class FakeMicrosoft {
  private readonly tenants = new Map<string, string>();
  private readonly apps = new Map<string, AppState>();
  readonly imapDisabled = new Set<string>();

  constructor(private readonly tokens: FakeTokens, private readonly tokenUrl: (tenant: string) => string) {}

  /** A tenant reachable by its id or its domain; returns the id. */
  addTenant(domain: string): string {
    const id = randomUUID();
    this.tenants.set(id, id);
    this.tenants.set(domain.toLowerCase(), id);
    return id;
  }

  addApp(tenant: string): FakeApp {
    const tenantId = this.tenants.get(tenant.toLowerCase())!;
    const clientId = randomUUID();
    const clientSecret = `${randomBytes(3).toString('hex')}~${randomBytes(24).toString('base64url')}`;
    const { certificate, certificateKey } = selfSignedCertificate(clientId);
    this.apps.set(clientId, {
      tenant: tenantId, secrets: new Map([[clientSecret, { expired: false }]]), consented: false, mailboxes: new Set(),
      certificates: new Map([[thumbprint(certificate), certificate]]),
    });
    return { tenant: tenantId, clientId, clientSecret, certificate, certificateKey };
  }

  /** Admin consent for Office 365 Exchange Online IMAP.AccessAsApp. */
  grantConsent(clientId: string): void {
    this.apps.get(clientId)!.consented = true;
  }

  /** Add-MailboxPermission -User <service principal> -AccessRights FullAccess. */
  grantMailbox(clientId: string, address: string): void {
    this.apps.get(clientId)!.mailboxes.add(address.toLowerCase());
  }

  expireSecret(clientId: string, secret: string): void {
    this.apps.get(clientId)!.secrets.get(secret)!.expired = true;
  }

  handle = (req: Request, res: Response): void => {
    const tenantParam = String(req.params.tenant ?? '');
    const fail = ([status, error, code, words]: readonly [number, string, number, (...a: string[]) => string], ...args: string[]) => {
      const timestamp = new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
      const traceId = randomUUID();
      const correlationId = randomUUID();
      res.status(status).json({
        error, error_description: `AADSTS${code}: ${words(...args)} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
        error_codes: [code], timestamp, trace_id: traceId, correlation_id: correlationId, error_uri: `https://login.microsoftonline.com/error?code=${code}`,
      });
    };
    const tenantId = this.tenants.get(tenantParam.toLowerCase());
    if (!tenantId) return fail(ERRORS.tenant, tenantParam);
    const body = (req.body ?? {}) as Record<string, string>;
    if (body.grant_type !== 'client_credentials') return fail(ERRORS.grantType);
    const app = this.apps.get(String(body.client_id ?? ''));
    if (!app || app.tenant !== tenantId) return fail(ERRORS.app, String(body.client_id ?? ''), tenantParam);
    if (body.client_secret !== undefined) {
      const secret = app.secrets.get(body.client_secret);
      if (!secret) return fail(ERRORS.secret, body.client_id!);
      if (secret.expired) return fail(ERRORS.expired, body.client_id!);
    } else if (body.client_assertion_type === 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' && body.client_assertion) {
      const jwt = decodeJwt(body.client_assertion);
      const certificate = jwt && typeof jwt.header.x5t === 'string' ? app.certificates.get(jwt.header.x5t) : undefined;
      if (!jwt || !certificate || !verifyRs256(jwt, new X509Certificate(certificate).publicKey)) return fail(ERRORS.assertion);
      const { aud, iss, sub, exp } = jwt.claims;
      if (aud !== this.tokenUrl(tenantParam) || iss !== body.client_id || sub !== body.client_id || typeof exp !== 'number' || exp * 1000 < Date.now()) return fail(ERRORS.audience);
    } else {
      return fail(ERRORS.missing);
    }
    if (body.scope !== IMAP_SCOPE) return fail(ERRORS.scope);
    // Without admin consent the token is still issued, only without the IMAP.AccessAsApp role: Exchange refuses it later.
    const token = this.tokens.issue({ provider: 'microsoft', opens: (user) => app.consented && app.mailboxes.has(user) && !this.imapDisabled.has(user) });
    res.status(200).json({ token_type: 'Bearer', expires_in: token.expiresIn, ext_expires_in: token.expiresIn, access_token: token.value });
  };
}

function thumbprint(certificatePem: string): string {
  return createHash('sha1').update(new X509Certificate(certificatePem).raw).digest('base64url');
}

function selfSignedCertificate(name: string): { certificate: string; certificateKey: string } {
  const dir = mkdtempSync(join(tmpdir(), 'fake-entra-'));
  try {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(join(dir, 'key.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    execFileSync('openssl', ['req', '-x509', '-new', '-key', join(dir, 'key.pem'), '-days', '2', '-subj', `/CN=${name}`, '-out', join(dir, 'cert.pem')]);
    return { certificate: readFileSync(join(dir, 'cert.pem'), 'utf8'), certificateKey: readFileSync(join(dir, 'key.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
