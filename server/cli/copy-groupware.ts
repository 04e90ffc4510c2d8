// `cutover copy --contacts --calendars --filters | --all`: the groupware part of a one-shot copy.
// The DAV and ManageSieve logins are the IMAP side's (same user, same password) unless told
// otherwise; without --source-dav/--dest-dav the DAV server is discovered (RFC 6764).
import { readFileSync } from 'node:fs';
import { CutoverError } from '../errors.ts';
import type { GroupwareReport, GroupwareSide, GroupwareWanted } from '../groupware/index.ts';
import { isLoopback } from '../loopback.ts';
import type { DavEndpoint, ImapEndpoint, SieveEndpoint } from '../plugins/contract.ts';
import type { Io } from './output.ts';

export const GROUPWARE_FLAGS = {
  contacts: { type: 'boolean' }, calendars: { type: 'boolean' }, filters: { type: 'boolean' }, all: { type: 'boolean' }, 'no-mail': { type: 'boolean' },
  'source-dav': { type: 'string' }, 'dest-dav': { type: 'string' }, 'source-sieve': { type: 'string' }, 'dest-sieve': { type: 'string' },
  nameserver: { type: 'string', multiple: true },
  'source-dav-user': { type: 'string' }, 'dest-dav-user': { type: 'string' },
  'source-dav-password-file': { type: 'string' }, 'dest-dav-password-file': { type: 'string' },
  'source-dav-password-env': { type: 'string' }, 'dest-dav-password-env': { type: 'string' },
  'source-dav-principal': { type: 'string' }, 'dest-dav-principal': { type: 'string' }, 'source-dav-user-header': { type: 'string' }, 'dest-dav-user-header': { type: 'string' },
} as const;

const DEFAULT_PRINCIPAL = '/{user}/';

type Values = Record<string, string | boolean | string[] | undefined>;

/** What the flags ask for besides the mail; null when nothing. */
export function groupwareWanted(values: Values): GroupwareWanted | null {
  const all = Boolean(values.all);
  const wanted = { contacts: all || Boolean(values.contacts), calendars: all || Boolean(values.calendars), filters: all || Boolean(values.filters) };
  if (!wanted.contacts && !wanted.calendars && !wanted.filters) {
    if (values['no-mail']) throw new CutoverError('INPUT_INVALID', { detail: '--no-mail copies groupware alone: add --contacts, --calendars, --filters or --all' });
    for (const flag of Object.keys(GROUPWARE_FLAGS).filter((f) => /^(source|dest)-/.test(f))) {
      if (values[flag]) throw new CutoverError('INPUT_INVALID', { detail: `--${flag} is for the groupware copy: add --contacts, --calendars, --filters or --all` });
    }
    return null;
  }
  return wanted;
}

export function parseHostPort(text: string, flag: string, defaultPort = 4190): { host: string; port: number } {
  const match = /^(\[[0-9a-f:.]+\]|[^:[\]/\s]+)(?::(\d{1,5}))?$/i.exec(text.trim());
  const port = match?.[2] ? Number(match[2]) : defaultPort;
  if (!match || port < 1 || port > 65535) throw new CutoverError('INPUT_INVALID', { detail: `${flag}: "${text}" is not HOST[:PORT]` });
  return { host: match[1]!.replace(/^\[|\]$/g, ''), port };
}

/**
 * With `--X-auth-user ADMIN` the IMAP login is an admin acting for the account: DAV logs in as that
 * admin too, for the account's principal (`--X-dav-principal`, `/{user}/` by default, as on
 * Radicale with admin rights), or naming the account in a header (`--X-dav-user-header`, for a
 * server behind a trusted proxy); ManageSieve uses the same SASL authorisation identity.
 */
function davActAs(imap: ImapEndpoint, values: Values, flag: 'source' | 'dest'): DavEndpoint['actAs'] {
  const principal = values[`${flag}-dav-principal`] as string | undefined;
  const header = values[`${flag}-dav-user-header`] as string | undefined;
  if (!imap.auth.authzid) {
    if (principal || header) throw new CutoverError('INPUT_INVALID', { detail: `--${flag}-dav-principal and --${flag}-dav-user-header are for an admin login (--${flag}-auth-user)` });
    return undefined;
  }
  const template = principal ?? DEFAULT_PRINCIPAL;
  if (!template.startsWith('/') || !template.includes('{user}')) throw new CutoverError('INPUT_INVALID', { detail: `--${flag}-dav-principal: "${template}" is not an absolute path containing {user}` });
  if (header !== undefined && !/^[A-Za-z][A-Za-z0-9-]{0,63}$/.test(header)) throw new CutoverError('INPUT_INVALID', { detail: `--${flag}-dav-user-header: "${header}" is not an HTTP header name` });
  const user = imap.auth.authzid;
  return { user, principal: template.split('{user}').join(encodeURIComponent(user).replace(/%40/g, '@')), ...(header && { header }) };
}

/**
 * A DAV login other than the IMAP one (`--X-dav-user` with `--X-dav-password-file FILE` or
 * `--X-dav-password-env VAR`, never on argv), for a DAV server that keeps its own users; undefined: the IMAP login.
 */
function davLogin(values: Values, flag: 'source' | 'dest'): { user: string; pass: string } | undefined {
  const user = values[`${flag}-dav-user`] as string | undefined;
  const file = values[`${flag}-dav-password-file`] as string | undefined;
  const env = values[`${flag}-dav-password-env`] as string | undefined;
  if (!user && !file && !env) return undefined;
  if (!user || Boolean(file) === Boolean(env)) throw new CutoverError('INPUT_INVALID', { detail: `a separate DAV login is --${flag}-dav-user with exactly one of --${flag}-dav-password-file FILE, --${flag}-dav-password-env VAR` });
  if (env) {
    const pass = process.env[env];
    if (!pass) throw new CutoverError('INPUT_INVALID', { detail: `--${flag}-dav-password-env: the variable ${env} is empty` });
    return { user, pass };
  }
  try { return { user, pass: readFileSync(file!, 'utf8').replace(/\r?\n$/, '') }; } catch (err) {
    throw new CutoverError('INPUT_INVALID', { detail: `--${flag}-dav-password-file: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` });
  }
}

function sideFor(imap: ImapEndpoint, values: Values, flag: 'source' | 'dest', allowPlaintext: boolean): GroupwareSide {
  const dav = values[`${flag}-dav`] as string | undefined;
  const sieve = values[`${flag}-sieve`] as string | undefined;
  const account = imap.auth.authzid ?? imap.auth.user;
  const domain = account.includes('@') ? account.slice(account.lastIndexOf('@') + 1) : undefined;
  const sieveAt = sieve ? parseHostPort(sieve, `--${flag}-sieve`) : undefined;
  const sieveEndpoint: SieveEndpoint | null = sieveAt ? {
    ...sieveAt, tlsVerify: imap.tlsVerify, ca: imap.ca, auth: imap.auth,
    security: allowPlaintext || isLoopback(sieveAt.host) ? 'starttls-optional' : 'starttls',
  } : null;
  const own = davLogin(values, flag);
  const actAs = own ? undefined : davActAs(imap, values, flag);
  if (actAs && !dav) throw new CutoverError('INPUT_INVALID', { detail: `with --${flag}-auth-user the DAV login is the admin's, sent only to a server you name: give --${flag}-dav URL (or --${flag}-dav-user for the account's own login)` });
  return {
    // The IMAP login as is (the account's own, or the admin's acting for it), unless told otherwise.
    dav: { url: dav ?? '', tlsVerify: imap.tlsVerify, ca: imap.ca, allowPlaintext, auth: own ?? { user: imap.auth.user, pass: imap.auth.pass }, ...(actAs && { actAs }) },
    sieve: sieveEndpoint,
    ...(domain && { domain }),
  };
}

/** `--nameserver HOST:PORT` (repeatable): where the DAV discovery asks for SRV records. */
function nameservers(given: Values[string]): string[] {
  const list = Array.isArray(given) ? given : typeof given === 'string' ? [given] : [];
  return list.map((spec) => {
    const { host, port } = parseHostPort(spec, '--nameserver', 53);
    return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  });
}

export interface GroupwareRun { report: GroupwareReport; skips: Array<{ collection: string; item: string; reason: string }>; failed: boolean }

export async function runGroupwareCopy(values: Values, wanted: GroupwareWanted, source: ImapEndpoint, dest: ImapEndpoint): Promise<GroupwareRun> {
  const allowPlaintext = Boolean(values['allow-plaintext']);
  // Loaded only for a copy that asks for groupware: a mail-only copy starts without the DAV and Sieve clients.
  const [{ copyGroupware }, { openGroupwareState }, { systemLookup }] = await Promise.all([import('../groupware/index.ts'), import('../groupware/state.ts'), import('../groupware/dav/system-lookup.ts')]);
  const state = await openGroupwareState(values.state as string | undefined);
  try {
    const needsDns = (wanted.contacts || wanted.calendars) && (!values['source-dav'] || !values['dest-dav']);
    const lookup = needsDns ? systemLookup(nameservers(values.nameserver)) : undefined;
    const report = await copyGroupware({
      source: sideFor(source, values, 'source', allowPlaintext),
      dest: sideFor(dest, values, 'dest', allowPlaintext),
      wanted, ledger: state.ledger, pass: 1, lookup,
    });
    const skips: GroupwareRun['skips'] = [];
    for (const c of report.collections) {
      for (const s of await state.ledger.skipList(c.sourceId, 50)) skips.push({ collection: c.name, item: s.sourceId, reason: s.reason });
    }
    return { report, skips, failed: report.collections.some((c) => c.state === 'failed' || c.skipped > 0) };
  } finally {
    await state.close();
  }
}

export function printGroupware(run: GroupwareRun, io: Io): void {
  for (const c of run.report.collections) {
    const counts = `${c.copied} copied, ${c.updated} updated, ${c.unchanged} unchanged, ${c.deleted} deleted, ${c.skipped} skipped`;
    io.out(`  ${c.name} [${c.kind}]: ${c.state === 'copied' ? counts : `${c.state}: ${c.reason}`}${c.state === 'copied' && c.reason ? ` (${c.reason})` : ''}`);
  }
  for (const s of run.skips) io.out(`    skipped ${s.item}: ${s.reason}`);
}
