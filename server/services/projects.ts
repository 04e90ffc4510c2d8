import type { AppContext } from '../context.ts';
import { recordEvent } from '../db/repos/events.ts';
import { platformByName } from '../db/repos/platforms.ts';
import { projectOptionsSchema, type ProjectOptions } from '../db/repos/projects.ts';
import { CutoverError } from '../errors.ts';
import { domainName } from '../net.ts';
import { steps } from '../workflow/steps/index.ts';
import { generatePassword, type MailboxPasswords } from './passwords.ts';

export interface NewMigration {
  from: string;
  to: string;
  domain: string;
  name?: string;
  options?: Partial<ProjectOptions>;
  passwords?: Map<string, MailboxPasswords>;
  actor: string;
}

export interface CreatedProject { projectId: number; name: string; mailboxes: string[] }

/**
 * One-click migration of a domain: discovers the accounts on the source and creates a project
 * with one migration per account. Everything is checked before the first row is written.
 */
export async function createDomainMigration(app: AppContext, input: NewMigration): Promise<CreatedProject> {
  const domainCheck = domainName.safeParse(input.domain);
  if (!domainCheck.success) throw new CutoverError('INPUT_INVALID', { detail: `"${input.domain}" is not a valid domain name` });
  const domain = domainCheck.data;
  const optionsCheck = projectOptionsSchema.safeParse(input.options ?? {});
  if (!optionsCheck.success) throw new CutoverError('INPUT_INVALID', { detail: optionsCheck.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
  const sourceRow = await platformByName(app.db, input.from);
  const destRow = await platformByName(app.db, input.to);
  if (sourceRow.id === destRow.id) throw new CutoverError('INPUT_INVALID', { detail: 'source and destination are the same platform' });

  const source = await app.connector(sourceRow.id);
  const dest = await app.connector(destRow.id);
  await source.testConnection();
  await dest.testConnection();
  if (!(await source.domainExists(domain))) throw new CutoverError('DOMAIN_UNKNOWN', { domain, platform: input.from });
  const accounts = (await source.listAccounts(domain)).filter((a) => a.active);
  if (accounts.length === 0) throw new CutoverError('DOMAIN_NO_ACCOUNTS', { domain, platform: input.from });
  const passwords = input.passwords ?? new Map<string, MailboxPasswords>();
  const unknownRows = [...passwords.keys()].filter((address) => !accounts.some((a) => a.address === address));
  if (unknownRows.length) throw new CutoverError('INPUT_INVALID', { detail: `the password file names accounts that are not on ${input.from}: ${unknownRows.join(', ')}` });
  if (!source.capabilities.masterUser) {
    const missing = accounts.filter((a) => !passwords.get(a.address)?.source).map((a) => a.address);
    if (missing.length) throw new CutoverError('INPUT_INVALID', { detail: `platform ${input.from} has no master user, so each account needs its password (--passwords file): missing for ${missing.join(', ')}` });
  }

  const name = input.name ?? `${domain} ${new Date().toISOString().slice(0, 16).replace('T', ' ')}`;
  const now = new Date().toISOString();
  return app.db.transaction(async (trx) => {
    if (await trx('projects').where({ name }).first()) throw new CutoverError('INPUT_INVALID', { detail: `a project named "${name}" already exists` });
    const [projectRow] = await trx('projects').insert({
      name, source_platform_id: sourceRow.id, dest_platform_id: destRow.id, options: JSON.stringify(optionsCheck.data), state: 'active', created_at: now,
    }).returning('id');
    const projectId = typeof projectRow === 'object' ? projectRow.id : projectRow;
    const [domainRow] = await trx('domains').insert({ project_id: projectId, name: domain }).returning('id');
    const domainId = typeof domainRow === 'object' ? domainRow.id : domainRow;
    for (const account of accounts) {
      const given = passwords.get(account.address);
      await trx('mailboxes').insert({
        project_id: projectId, domain_id: domainId, address: account.address, state: 'queued', step: steps[0]!.id,
        source_password_sealed: given?.source ? app.box.seal(given.source) : null,
        dest_password_sealed: app.box.seal(given?.dest ?? generatePassword()),
        dest_password_generated: !given?.dest,
        created_at: now, updated_at: now,
      });
    }
    await recordEvent(trx, { projectId, domainId, outcome: 'created', message: `project created: ${accounts.length} mailboxes of ${domain} from ${input.from} to ${input.to}`, actor: input.actor });
    return { projectId, name, mailboxes: accounts.map((a) => a.address) };
  });
}
