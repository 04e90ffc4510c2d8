import { randomBytes } from 'node:crypto';

export interface IssuedToken {
  value: string;
  provider: 'google' | 'microsoft';
  expiresAt: number;
  expiresIn: number;
  revoked: boolean;
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

  issue(spec: { provider: IssuedToken['provider']; opens: (user: string) => boolean }): IssuedToken {
    const prefix = spec.provider === 'google' ? 'ya29.' : 'eyJ0eXAiOiJKV1Qi.';
    const token: IssuedToken = {
      value: prefix + randomBytes(32).toString('base64url'), provider: spec.provider, expiresIn: this.lifetimeSeconds,
      expiresAt: this.now() + this.lifetimeSeconds * 1000, revoked: false, opens: spec.opens,
    };
    this.byValue.set(token.value, token);
    this.issuedCount++;
    return token;
  }

  /** Revokes every token issued so far (a password reset, an admin's "sign out everywhere"). */
  revokeAll(): void {
    for (const token of this.byValue.values()) token.revoked = true;
  }

  /** RFC 7662 answer for `value` used to log in as `user`. */
  introspect(value: string, user: string | undefined): Record<string, unknown> {
    const token = this.byValue.get(value);
    if (!token || token.revoked || this.now() >= token.expiresAt || !user || !token.opens(user.toLowerCase())) return { active: false };
    return { active: true, username: user.toLowerCase(), token_type: 'Bearer', exp: Math.floor(token.expiresAt / 1000) };
  }
}
