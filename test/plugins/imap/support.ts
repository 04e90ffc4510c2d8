import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { NEW_MX, NEW_SPF, OLD_MX } from '../../support/platforms.ts';

export interface ImapConfigOptions {
  /** Log in as any user through the Dovecot master user (`user*migrator`), or SASL PLAIN with an authorisation identity. */
  admin?: 'master-user' | 'sasl-authzid';
  /** The host whose MX/SPF this platform expects: OLD_MX or NEW_MX (default: none, so no mailHost or expectedDns). */
  mailHost?: string;
}

/** An `imap` plugin config for a test server (a Dovecot, or any IMAP server without the admin option), written to a file as an admin would. */
export function writeImapConfig(inst: { host: string; port: number; masterUser?: string; masterPassword?: string }, dir: string, name: string, opts: ImapConfigOptions = {}): string {
  let admin: Record<string, unknown> | undefined;
  if (opts.admin) {
    const passwordFile = path.join(dir, `${name}-admin.pass`);
    if (!inst.masterUser || !inst.masterPassword) throw new Error(`${name}: this server has no master user`);
    writeFileSync(passwordFile, inst.masterPassword, { mode: 0o600 });
    admin = { kind: opts.admin, user: inst.masterUser, passwordFile };
  }
  const dns = opts.mailHost === NEW_MX
    ? { mailHost: NEW_MX, expectedDns: { mx: [{ priority: 10, exchange: NEW_MX }], spfIncludes: [NEW_SPF] } }
    : opts.mailHost === OLD_MX ? { mailHost: OLD_MX, expectedDns: { mx: [{ priority: 10, exchange: OLD_MX }], spfIncludes: ['spf.old.example.net'] } } : {};
  const config = { host: inst.host, port: inst.port, security: 'none', ...(admin && { admin }), ...dns };
  const file = path.join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

export interface AccountRow { address: string; sourceLogin?: string; sourcePassword?: string; destLogin?: string; destPassword?: string }

/** The Microsoft 365-style account list: address,source_login,source_password,dest_login,dest_password. */
export function writeAccountsCsv(dir: string, name: string, rows: AccountRow[]): string {
  const file = path.join(dir, name);
  const lines = rows.map((r) => [r.address, r.sourceLogin ?? '', r.sourcePassword ?? '', r.destLogin ?? '', r.destPassword ?? ''].join(','));
  writeFileSync(file, ['address,source_login,source_password,dest_login,dest_password', ...lines].join('\n') + '\n', { mode: 0o600 });
  return file;
}
