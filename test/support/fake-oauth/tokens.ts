import { randomBytes } from 'node:crypto';

export interface IssuedToken {
  value: string;
  provider: 'google' | 'microsoft';
  expiresAt: number;
  expiresIn: number;
  revoked: boolean;
  /** The user a Google token was issued for; none for a Microsoft app token, which may open any mailbox the app was granted. */
  subject?: string;
  /** Whether this token opens `user`'s mailbox over IMAP (the provider's own rules). */
  opens(user: string): boolean;
}

/** Every token the fake endpoints issued: what the introspection endpoint Dovecot asks answers from. */
export class FakeTokens {
  private readonly byValue = new Map<string, IssuedToken>();
  /** Lifetime of new tokens, in seconds (both providers say 3599). */
  lifetimeSeconds = 3599;
  issuedCount = 0;

  constructor(private readonly now: () => number) {}

  issue(spec: { provider: IssuedToken['provider']; subject?: string; opens: (user: string) => boolean }): IssuedToken {
    const prefix = spec.provider === 'google' ? 'ya29.' : 'eyJ0eXAiOiJKV1Qi.';
    const token: IssuedToken = {
      value: prefix + randomBytes(32).toString('base64url'), provider: spec.provider, expiresIn: this.lifetimeSeconds,
      expiresAt: this.now() + this.lifetimeSeconds * 1000, revoked: false, subject: spec.subject, opens: spec.opens,
    };
    this.byValue.set(token.value, token);
    this.issuedCount++;
    return token;
  }

  /** Revokes every token issued so far (a password reset, an admin's "sign out everywhere"). */
  revokeAll(): void {
    for (const token of this.byValue.values()) token.revoked = true;
  }

  /**
   * RFC 7662 answer for `value`. Dovecot's oauth2 passdb sends the token alone and checks that
   * `username` is the login name, so a user-bound token answers with its subject; an app token
   * (Microsoft) with `mailbox`, the one mailbox the asking server serves for that app.
   */
  introspect(value: string, mailbox?: string): Record<string, unknown> {
    const token = this.byValue.get(value);
    const user = token?.subject ?? mailbox?.toLowerCase();
    if (!token || token.revoked || this.now() >= token.expiresAt || !user || !token.opens(user)) return { active: false };
    return { active: true, username: user, token_type: 'Bearer', exp: Math.floor(token.expiresAt / 1000) };
  }
}
