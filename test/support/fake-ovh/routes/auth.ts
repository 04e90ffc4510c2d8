import { randomBytes } from 'node:crypto';
import { FakeApiError, type AccessRule } from '../state.ts';
import type { Routes } from './types.ts';

export function authRoutes(routes: Routes): void {
  routes.set('GET /auth/time', (ctx) => ctx.state.serverTime());

  // noAuthentication: only the application key is sent; the key starts "pendingValidation".
  routes.set('POST /auth/credential', (ctx) => {
    const appKey = ctx.header('x-ovh-application');
    if (!appKey || !ctx.state.apps.has(appKey)) throw new FakeApiError(403, { errorCode: 'INVALID_KEY', httpCode: '403 Forbidden', message: 'Invalid application key' });
    const rules = (ctx.body.accessRules as AccessRule[] | undefined) ?? [];
    if (!rules.length) throw new FakeApiError(400, { class: 'Client::BadRequest', message: 'You must specify at least one access rule' });
    const credential = ctx.state.addCredential(appKey, { rules, state: 'pendingValidation' });
    credential.validationUrl = `https://fake.ovh.invalid/auth/sso/api?credentialToken=${randomBytes(12).toString('hex')}`;
    return { consumerKey: credential.consumerKey, validationUrl: credential.validationUrl, state: credential.state };
  });

  routes.set('GET /auth/currentCredential', (ctx) => {
    const c = ctx.credential!;
    return {
      applicationId: ctx.state.apps.get(c.applicationKey)!.id, credentialId: c.credentialId, rules: c.rules, status: c.state,
      creation: c.creation, lastUse: c.lastUse, expiration: c.expiration === null ? null : new Date(c.expiration).toISOString(), allowedIPs: null, ovhSupport: false,
    };
  });

  routes.set('POST /auth/logout', (ctx) => {
    ctx.state.expire(ctx.credential!.consumerKey);
    return null;
  });
}
