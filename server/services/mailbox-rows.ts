import type { AppContext } from '../context.ts';
import type { Db } from '../db/knex.ts';
import type { ProjectRow } from '../db/repos/projects.ts';
import { CutoverError } from '../errors.ts';
import { emailAddress } from '../net.ts';
import { needsSourcePassword, type Account, type PlatformConnector } from '../plugins/contract.ts';
import { checkRowLogins } from './row-logins.ts';

/** One mailbox to add to a project, as an admin gives it (a form, a file row, an API row). */
export interface MailboxInput {
  address: string;
  /** The user name on the source when it is not the address (CSV `source_login`). */
  sourceLogin?: string;
  sourcePassword?: string;
  destLogin?: string;
  destPassword?: string;
}

/** A row numbered as the admin sees it: the line of the file, or the position in the API's list. */
export interface NumberedRow extends MailboxInput { line: number }

/** Why a row cannot be imported; the words live in the imports messages (`import.problem.<code>`). */
export type RowProblemCode =
  | 'address_invalid' | 'duplicate' | 'in_project' | 'in_other_project' | 'domain_unknown'
  | 'account_unknown' | 'source_password_missing' | 'password_too_long' | 'source_login_failed' | 'dest_password_missing';

/** Worth knowing, but the row can be imported. */
export type RowNoticeCode = 'account_inactive' | 'dest_login_failed';

export interface RowProblem<C extends string = RowProblemCode> { code: C; params: Record<string, string | number> }

export interface CheckedRow extends NumberedRow {
  errors: RowProblem[];
  warnings: Array<RowProblem<RowNoticeCode>>;
}

/** Longer than any platform accepts; keeps sealed rows and pages bounded. */
const MAX_PASSWORD_LENGTH = 256;
// Well below SQLite's bound-parameter limit.
const IN_CHUNK = 500;

/** Rows that failed the checks, each with its reasons: the API answers them as they are, the pages list them. */
export class RowsInvalidError extends CutoverError {
  constructor(readonly rows: CheckedRow[]) {
    const bad = rows.filter((r) => r.errors.length > 0);
    super('INPUT_INVALID', { detail: `${bad.length} row(s) cannot be added: ${bad.slice(0, 5).map((r) => `line ${r.line} (${r.address || 'empty'}): ${r.errors.map(describeProblem).join(', ')}`).join('; ')}${bad.length > 5 ? '; …' : ''}` });
  }
}

/** A problem in a line of text: its code and what it is about (the pages have the words). */
function describeProblem(problem: RowProblem): string {
  const params = Object.entries(problem.params).filter(([key]) => key !== 'address');
  return params.length ? `${problem.code} (${params.map(([key, value]) => `${key} ${value}`).join(', ')})` : problem.code;
}

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1);
}

/** Addresses already migrated by this project or by another active one (a second migration of the same mailbox would fight the first). */
export async function existingAddresses(db: Db, projectId: number, addresses: string[]): Promise<Map<string, { projectId: number; project: string }>> {
  const found = new Map<string, { projectId: number; project: string }>();
  for (let i = 0; i < addresses.length; i += IN_CHUNK) {
    const rows: Array<{ address: string; project_id: number; name: string }> = await db('mailboxes as m').join('projects as p', 'p.id', 'm.project_id')
      .whereIn('m.address', addresses.slice(i, i + IN_CHUNK))
      .andWhere((q) => q.where('m.project_id', projectId).orWhere('p.state', 'active'))
      .select('m.address', 'm.project_id', 'p.name');
    // This project's own row wins over another project's: it is the more useful thing to say.
    for (const r of rows) if (!found.has(r.address) || r.project_id === projectId) found.set(r.address, { projectId: r.project_id, project: r.name });
  }
  return found;
}

/** The source's accounts of one domain in one call where the platform can list them, one lookup per address otherwise. */
async function sourceAccounts(source: PlatformConnector, domain: string, addresses: string[]): Promise<Map<string, Account | null>> {
  const result = new Map<string, Account | null>();
  if (source.capabilities.listAccounts) {
    for (const account of await source.listAccounts(domain)) result.set(account.address.toLowerCase(), account);
  }
  // Listings may leave out inactive accounts: those are looked up one by one, to tell "inactive" from "unknown".
  for (const address of addresses) if (!result.has(address)) result.set(address, await source.getAccount(address));
  return result;
}

/**
 * The dry run of adding mailboxes to a project: every row is checked and every problem named,
 * nothing is written. Local checks first (address, duplicates, rows already migrated), then the
 * source platform (domain, account, and a password when it has no master user). A platform that
 * cannot be reached fails the whole check with its own error rather than blaming each row.
 */
export async function checkMailboxRows(app: AppContext, project: ProjectRow, rows: NumberedRow[]): Promise<CheckedRow[]> {
  const checked: CheckedRow[] = rows.map((row) => ({ ...row, address: row.address.trim(), errors: [], warnings: [] }));
  const firstLine = new Map<string, number>();
  for (const row of checked) {
    const parsed = emailAddress.safeParse(row.address);
    if (!parsed.success) { row.errors.push({ code: 'address_invalid', params: { address: row.address } }); continue; }
    row.address = parsed.data;
    const first = firstLine.get(row.address);
    if (first !== undefined) row.errors.push({ code: 'duplicate', params: { address: row.address, line: first } });
    else firstLine.set(row.address, row.line);
    for (const [field, value] of [['source_password', row.sourcePassword], ['dest_password', row.destPassword], ['source_login', row.sourceLogin], ['dest_login', row.destLogin]] as const) {
      if (value && value.length > MAX_PASSWORD_LENGTH) row.errors.push({ code: 'password_too_long', params: { field, max: MAX_PASSWORD_LENGTH } });
    }
  }

  const existing = await existingAddresses(app.db, project.id, [...firstLine.keys()]);
  for (const row of checked) {
    const taken = existing.get(row.address);
    if (!taken) continue;
    row.errors.push(taken.projectId === project.id ? { code: 'in_project', params: { address: row.address } } : { code: 'in_other_project', params: { address: row.address, project: taken.project } });
  }

  const source = await app.connector(project.source_platform_id);
  const valid = checked.filter((r) => !r.errors.some((e) => e.code === 'address_invalid' || e.code === 'duplicate'));
  const byDomain = new Map<string, string[]>();
  for (const row of valid) byDomain.set(domainOf(row.address), [...(byDomain.get(domainOf(row.address)) ?? []), row.address]);
  const knownDomains = new Set<string>();
  const accounts = new Map<string, Account | null>();
  // A row with its own source login is looked up by that login when it logs in (below), not by its address.
  const byLogin = new Set(valid.filter((r) => r.sourceLogin).map((r) => r.address));
  for (const [domain, all] of byDomain) {
    const addresses = all.filter((a) => !byLogin.has(a));
    if (!(await source.domainExists(domain))) continue;
    knownDomains.add(domain);
    for (const [address, account] of await sourceAccounts(source, domain, addresses)) accounts.set(address, account);
  }
  for (const row of valid) {
    const domain = domainOf(row.address);
    if (!knownDomains.has(domain)) { row.errors.push({ code: 'domain_unknown', params: { domain } }); continue; }
    if (byLogin.has(row.address)) continue;
    const account = accounts.get(row.address);
    if (!account) row.errors.push({ code: 'account_unknown', params: { address: row.address } });
    else if (!account.active) row.warnings.push({ code: 'account_inactive', params: { address: row.address } });
  }
  if (needsSourcePassword(source.capabilities)) {
    for (const row of checked) if (!row.sourcePassword) row.errors.push({ code: 'source_password_missing', params: { address: row.address } });
  }
  const dest = await app.connector(project.dest_platform_id);
  // A destination that cannot create accounts holds them already, under a password only the admin knows.
  if (!dest.capabilities.createAccount && !dest.capabilities.masterUser) {
    for (const row of checked) if (!row.destPassword) row.errors.push({ code: 'dest_password_missing', params: { address: row.address } });
  }
  await checkRowLogins(checked, source, dest);
  return checked;
}
