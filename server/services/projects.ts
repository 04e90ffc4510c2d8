import type { Knex } from 'knex';
import type { AppContext } from '../context.ts';
import { recordEvent } from '../db/repos/events.ts';
import { platformByName, type PlatformRow } from '../db/repos/platforms.ts';
import { projectOptionsSchema, type ProjectOptions, type ProjectRow } from '../db/repos/projects.ts';
import { CutoverError } from '../errors.ts';
import { domainName } from '../net.ts';
import { assertStillFree, insertMailboxes } from './project-mailboxes.ts';
import { checkMailboxRows, RowsInvalidError, type MailboxInput, type NumberedRow } from './mailbox-rows.ts';
import type { MailboxPasswords } from './passwords.ts';
import { needsSourcePassword } from '../plugins/contract.ts';

export interface NewProject {
  name: string;
  /** Platform names. */
  source: string;
  destination: string;
  /** Checked against the project options schema; missing ones take their defaults. */
  options?: unknown;
  actor: string;
}

export interface NewMigration {
  from: string;
  to: string;
  domain: string;
  name?: string;
  options?: Partial<ProjectOptions>;
  passwords?: Map<string, MailboxPasswords>;
  /**
   * The accounts to migrate, with their logins and passwords (a CSV or a pasted list): required
   * when the source cannot list accounts (an IMAP server), and taken instead of its listing otherwise.
   */
  accounts?: NumberedRow[];
  actor: string;
}

export interface CreatedProject { projectId: number; name: string; mailboxes: string[] }

interface ValidProject { name: string; source: PlatformRow; destination: PlatformRow; options: ProjectOptions }

const MAX_NAME_LENGTH = 120;

export function parseProjectOptions(input: unknown): ProjectOptions {
  const checked = projectOptionsSchema.safeParse(input ?? {});
  if (!checked.success) throw new CutoverError('INPUT_INVALID', { detail: checked.error.issues.map((i) => `${i.path.join('.') || 'options'}: ${i.message}`).join('; ') });
  return checked.data;
}

/** Everything about a new project that can be checked without writing: refused here, nothing is half-created later. */
async function validateProject(app: AppContext, input: Omit<NewProject, 'actor'>): Promise<ValidProject> {
  const name = typeof input.name === 'string' ? input.name.trim() : '';
  if (!name) throw new CutoverError('INPUT_INVALID', { detail: 'the project needs a name' });
  if (name.length > MAX_NAME_LENGTH) throw new CutoverError('INPUT_INVALID', { detail: `the project name is longer than ${MAX_NAME_LENGTH} characters` });
  const options = parseProjectOptions(input.options);
  const source = await platformByName(app.db, input.source);
  const destination = await platformByName(app.db, input.destination);
  if (source.id === destination.id) throw new CutoverError('INPUT_INVALID', { detail: 'source and destination are the same platform' });
  if ((await app.connector(destination.id)).capabilities.mailFromFiles) throw new CutoverError('INPUT_INVALID', { detail: `${destination.name} holds no mail (files uploaded to the panel): it can only be a source` });
  if (options.dnsProvider) await assertDnsProvider(app, options.dnsProvider);
  if (await app.db('projects').where({ name }).first()) throw new CutoverError('PROJECT_EXISTS', { name });
  return { name, source, destination, options };
}

/** A DNS provider is a platform row whose plugin changes zones: refused at creation rather than at dns-cutover. */
async function assertDnsProvider(app: AppContext, name: string): Promise<void> {
  const row = await platformByName(app.db, name);
  if (!app.plugins.get(row.plugin).dns) throw new CutoverError('DNS_PROVIDER_UNSUITABLE', { name, detail: `its plugin ${row.plugin} is not a DNS provider` });
}

async function insertProject(trx: Knex, project: ValidProject, actor: string): Promise<ProjectRow> {
  // The name was free when checked; the unique index settles a race with another admin.
  if (await trx('projects').where({ name: project.name }).first()) throw new CutoverError('PROJECT_EXISTS', { name: project.name });
  const [row] = await trx('projects').insert({
    name: project.name, source_platform_id: project.source.id, dest_platform_id: project.destination.id,
    options: JSON.stringify(project.options), state: 'active', created_at: new Date().toISOString(),
  }).returning('id');
  const projectId = typeof row === 'object' ? row.id : row;
  await recordEvent(trx, { projectId, outcome: 'created', message: `project created by ${actor}: from ${project.source.name} to ${project.destination.name}, ${project.options.startMode} start`, actor });
  return (await trx<ProjectRow>('projects').where({ id: projectId }).first())!;
}

/** A project without mailboxes yet: they come from the add form, an import or the API, all through {@link insertMailboxes}. */
export async function createProject(app: AppContext, input: NewProject): Promise<ProjectRow> {
  const valid = await validateProject(app, input);
  return app.db.transaction((trx) => insertProject(trx, valid, input.actor));
}

/**
 * One-click migration of a domain: discovers the accounts on the source and creates a project
 * with one migration per account. Everything is checked before the first row is written, and
 * the project and its mailboxes are written in one transaction.
 */
export async function createDomainMigration(app: AppContext, input: NewMigration): Promise<CreatedProject> {
  const domainCheck = domainName.safeParse(input.domain);
  if (!domainCheck.success) throw new CutoverError('INPUT_INVALID', { detail: `"${input.domain}" is not a valid domain name` });
  const domain = domainCheck.data;
  const name = input.name?.trim() || `${domain} ${new Date().toISOString().slice(0, 16).replace('T', ' ')}`;
  const valid = await validateProject(app, { name, source: input.from, destination: input.to, options: input.options });

  const source = await app.connector(valid.source.id);
  const dest = await app.connector(valid.destination.id);
  await source.testConnection();
  await dest.testConnection();
  if (!(await source.domainExists(domain))) throw new CutoverError('DOMAIN_UNKNOWN', { domain, platform: input.from });
  if (input.accounts) return createFromAccountList(app, valid, domain, input.accounts, input.actor);
  if (!source.capabilities.listAccounts) throw new CutoverError('ACCOUNTS_NEEDED', { platform: input.from, domain });
  const accounts = (await source.listAccounts(domain)).filter((a) => a.active);
  if (accounts.length === 0) throw new CutoverError('DOMAIN_NO_ACCOUNTS', { domain, platform: input.from });
  const passwords = input.passwords ?? new Map<string, MailboxPasswords>();
  const unknownRows = [...passwords.keys()].filter((address) => !accounts.some((a) => a.address === address));
  if (unknownRows.length) throw new CutoverError('INPUT_INVALID', { detail: `the password file names accounts that are not on ${input.from}: ${unknownRows.join(', ')}` });
  if (needsSourcePassword(source.capabilities)) {
    const missing = accounts.filter((a) => !passwords.get(a.address)?.source).map((a) => a.address);
    if (missing.length) throw new CutoverError('INPUT_INVALID', { detail: `platform ${input.from} has no master user, so each account needs its password (--passwords file): missing for ${missing.join(', ')}` });
  }

  const rows = accounts.map((a) => ({ address: a.address, sourcePassword: passwords.get(a.address)?.source, destPassword: passwords.get(a.address)?.dest }));
  return app.db.transaction(async (trx) => {
    const project = await insertProject(trx, valid, input.actor);
    await assertStillFree(trx, project, rows.map((r) => r.address));
    const mailboxes = await insertMailboxes(trx, app, project, rows, input.actor, `from ${domain} on ${input.from}`);
    return { projectId: project.id, name: project.name, mailboxes };
  });
}


/**
 * A domain's migration from a given account list: every row is checked as an import's dry run
 * checks it (address, domain, duplicates, each row's logins on both sides) before the project is
 * written, so a row whose login fails is named and nothing is created.
 */
async function createFromAccountList(app: AppContext, valid: ValidProject, domain: string, accounts: NumberedRow[], actor: string): Promise<CreatedProject> {
  if (accounts.length === 0) throw new CutoverError('INPUT_INVALID', { detail: 'the account list is empty' });
  const outside = accounts.filter((row) => !row.address.trim().toLowerCase().endsWith(`@${domain}`));
  if (outside.length) throw new CutoverError('INPUT_INVALID', { detail: `the account list has addresses outside ${domain}: ${outside.slice(0, 5).map((r) => `line ${r.line} (${r.address || 'empty'})`).join(', ')}` });
  // Not written yet: the checks only read the platforms and the other projects.
  const draft = { id: -1, name: valid.name, source_platform_id: valid.source.id, dest_platform_id: valid.destination.id, options: JSON.stringify(valid.options), state: 'active', created_at: '' };
  const checked = await checkMailboxRows(app, draft, accounts);
  if (checked.some((row) => row.errors.length > 0)) throw new RowsInvalidError(checked);
  const rows: MailboxInput[] = checked.map(({ address, sourceLogin, sourcePassword, destLogin, destPassword }) => ({ address, sourceLogin, sourcePassword, destLogin, destPassword }));
  return app.db.transaction(async (trx) => {
    const project = await insertProject(trx, valid, actor);
    await assertStillFree(trx, project, rows.map((r) => r.address));
    const mailboxes = await insertMailboxes(trx, app, project, rows, actor, `from the account list of ${domain} on ${valid.source.name}`);
    return { projectId: project.id, name: project.name, mailboxes };
  });
}
