// `cutover copy --contacts --calendars --filters | --all`: the groupware part of a one-shot copy.
// The DAV and ManageSieve logins are the IMAP side's (same user, same password) unless told
// otherwise; without --source-dav/--dest-dav the DAV server is discovered (RFC 6764).
import { CutoverError } from '../errors.ts';
import { copyGroupware, type GroupwareReport, type GroupwareSide, type GroupwareWanted } from '../groupware/index.ts';
import { openGroupwareState } from '../groupware/state.ts';
import { systemLookup } from '../groupware/dav/system-lookup.ts';
import { isLoopback } from '../loopback.ts';
import type { ImapEndpoint, SieveEndpoint } from '../plugins/contract.ts';
import type { Io } from './output.ts';

export const GROUPWARE_FLAGS = {
  contacts: { type: 'boolean' }, calendars: { type: 'boolean' }, filters: { type: 'boolean' }, all: { type: 'boolean' }, 'no-mail': { type: 'boolean' },
  'source-dav': { type: 'string' }, 'dest-dav': { type: 'string' }, 'source-sieve': { type: 'string' }, 'dest-sieve': { type: 'string' },
} as const;

type Values = Record<string, string | boolean | string[] | undefined>;

/** What the flags ask for besides the mail; null when nothing. */
export function groupwareWanted(values: Values): GroupwareWanted | null {
  const all = Boolean(values.all);
  const wanted = { contacts: all || Boolean(values.contacts), calendars: all || Boolean(values.calendars), filters: all || Boolean(values.filters) };
  if (!wanted.contacts && !wanted.calendars && !wanted.filters) {
    if (values['no-mail']) throw new CutoverError('INPUT_INVALID', { detail: '--no-mail copies groupware alone: add --contacts, --calendars, --filters or --all' });
    for (const flag of ['source-dav', 'dest-dav', 'source-sieve', 'dest-sieve']) {
      if (values[flag]) throw new CutoverError('INPUT_INVALID', { detail: `--${flag} is for the groupware copy: add --contacts, --calendars, --filters or --all` });
    }
    return null;
  }
  return wanted;
}

export function parseHostPort(text: string, flag: string): { host: string; port: number } {
  const match = /^(\[[0-9a-f:.]+\]|[^:[\]/\s]+)(?::(\d{1,5}))?$/i.exec(text.trim());
  const port = match?.[2] ? Number(match[2]) : 4190;
  if (!match || port < 1 || port > 65535) throw new CutoverError('INPUT_INVALID', { detail: `${flag}: "${text}" is not HOST[:PORT]` });
  return { host: match[1]!.replace(/^\[|\]$/g, ''), port };
}

function sideFor(imap: ImapEndpoint, dav: string | undefined, sieve: string | undefined, flag: 'source' | 'dest', allowPlaintext: boolean): GroupwareSide {
  const login = imap.auth.authzid ?? imap.auth.user;
  const domain = login.includes('@') ? login.slice(login.lastIndexOf('@') + 1) : undefined;
  const sieveAt = sieve ? parseHostPort(sieve, `--${flag}-sieve`) : undefined;
  const sieveEndpoint: SieveEndpoint | null = sieveAt ? {
    ...sieveAt, tlsVerify: imap.tlsVerify, ca: imap.ca, auth: imap.auth,
    security: allowPlaintext || isLoopback(sieveAt.host) ? 'starttls-optional' : 'starttls',
  } : null;
  return {
    dav: { url: dav ?? '', tlsVerify: imap.tlsVerify, ca: imap.ca, allowPlaintext, auth: { user: login, pass: imap.auth.pass } },
    sieve: sieveEndpoint,
    ...(domain && { domain }),
  };
}

export interface GroupwareRun { report: GroupwareReport; skips: Array<{ collection: string; item: string; reason: string }>; failed: boolean }

export async function runGroupwareCopy(values: Values, wanted: GroupwareWanted, source: ImapEndpoint, dest: ImapEndpoint): Promise<GroupwareRun> {
  const allowPlaintext = Boolean(values['allow-plaintext']);
  const state = await openGroupwareState(values.state as string | undefined);
  try {
    const needsDns = (wanted.contacts || wanted.calendars) && (!values['source-dav'] || !values['dest-dav']);
    const lookup = needsDns ? systemLookup() : undefined;
    const report = await copyGroupware({
      source: sideFor(source, values['source-dav'] as string | undefined, values['source-sieve'] as string | undefined, 'source', allowPlaintext),
      dest: sideFor(dest, values['dest-dav'] as string | undefined, values['dest-sieve'] as string | undefined, 'dest', allowPlaintext),
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
