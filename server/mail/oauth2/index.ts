// OAuth2 for IMAP sources where basic auth is off: Google service accounts (JWT bearer) and
// Microsoft app registrations (client credentials), tokens cached per user and renewed.
export { oauth2ConfigSchema, parseOAuth2Config, type OAuth2Config } from './schema.ts';
export { createTokenSource, type TokenSource, type TokenSourceDeps } from './token-source.ts';
export { withAccessToken } from './endpoint.ts';
