import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { AppContext } from '../context.ts';
import { projectById } from '../db/repos/projects.ts';
import { formatNameServer, parseNameServer } from '../dns/transport.ts';
import { CutoverError } from '../errors.ts';
import { parseMailboxFile } from '../services/import-parse.ts';
import { readPasswordFile } from '../services/passwords.ts';
import { createDomainMigration } from '../services/projects.ts';
import { projectReport } from '../services/report.ts';
import { runWorker } from '../workflow/runner.ts';
import { EXIT, actor, parseDuration, parsePositiveInt, type Io } from './output.ts';
import { followEvents } from './progress.ts';
import { printReport } from './status.ts';

const TERMINAL = ['done', 'failed', 'stopped'];

export async function migrateCommand(app: AppContext, argv: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      from: { type: 'string' }, to: { type: 'string' }, domain: { type: 'string' }, name: { type: 'string' },
      wait: { type: 'boolean' }, json: { type: 'boolean' }, overlap: { type: 'string' }, 'delta-interval': { type: 'string' },
      nameserver: { type: 'string', multiple: true }, passwords: { type: 'string' }, 'reset-source': { type: 'boolean' },
      exclude: { type: 'string', multiple: true }, concurrency: { type: 'string' }, 'dns-recheck': { type: 'string' },
      'temp-pattern': { type: 'string' }, 'max-size': { type: 'string' },
      'dns-provider': { type: 'string' }, authoritative: { type: 'string', multiple: true }, accounts: { type: 'string' },
    },
  });
  if (!values.from || !values.to || !values.domain) throw new CutoverError('INPUT_INVALID', { detail: 'usage: cutover migrate --from PLATFORM --to PLATFORM --domain DOMAIN [--accounts FILE] [--wait] [--json]' });
  const options = {
    ...(values.overlap !== undefined && { overlapSeconds: parseDuration(values.overlap, '--overlap') }),
    ...(values['delta-interval'] !== undefined && { deltaIntervalSeconds: parseDuration(values['delta-interval'], '--delta-interval') }),
    ...(values['dns-recheck'] !== undefined && { dnsRecheckSeconds: Math.max(1, parseDuration(values['dns-recheck'], '--dns-recheck')) }),
    ...(values.nameserver && { nameservers: values.nameserver }),
    ...(values.authoritative && { authoritativeServers: values.authoritative.map((spec) => formatNameServer(parseNameServer(spec))) }),
    ...(values['dns-provider'] && { dnsProvider: values['dns-provider'] }),
    ...(values['reset-source'] && { resetSource: true }),
    ...(values.exclude && { excludeFolders: values.exclude }),
    ...(values['temp-pattern'] && { tempPattern: values['temp-pattern'] }),
    ...(values['max-size'] && { maxMessageBytes: parsePositiveInt(values['max-size'], '--max-size') }),
    ...(values.concurrency && { concurrency: parsePositiveInt(values.concurrency, '--concurrency') }),
  };
  if (values.passwords && values.accounts) throw new CutoverError('INPUT_INVALID', { detail: 'give --accounts FILE (which holds the passwords too) or --passwords FILE, not both' });
  const passwords = values.passwords ? readPasswordFile(values.passwords) : undefined;
  const accounts = values.accounts ? await readAccountsFile(values.accounts) : undefined;
  const created = await createDomainMigration(app, { from: values.from, to: values.to, domain: values.domain, name: values.name, options, passwords, accounts, actor: actor() });
  if (!values.json) io.out(`project "${created.name}" (#${created.projectId}): ${created.mailboxes.length} mailboxes: ${created.mailboxes.join(', ')}`);
  if (!values.wait) {
    if (!values.json) io.out('run the workflow with: npx cutover run   (or add --wait)');
    else io.out(JSON.stringify({ project: created }));
    return EXIT.ok;
  }
  return waitForProject(app, created.projectId, io, { json: Boolean(values.json), concurrency: options.concurrency });
}

/** The account list of `--accounts FILE`: CSV or .xlsx, `address,source_login,source_password,dest_login,dest_password` (as an import). */
async function readAccountsFile(file: string) {
  let data: Buffer;
  try { data = readFileSync(file); } catch (err) {
    throw new CutoverError('INPUT_INVALID', { detail: `--accounts: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` });
  }
  return parseMailboxFile(data);
}

/** Runs the worker for one project until every mailbox is done, failed or stopped, then prints the report. */
export async function waitForProject(app: AppContext, projectId: number, io: Io, opts: { json: boolean; concurrency?: number }): Promise<number> {
  const stopFollowing = opts.json ? async () => undefined : followEvents(app, projectId, io);
  const allTerminal = async () => {
    const open = await app.db('mailboxes').where({ project_id: projectId }).whereNotIn('state', TERMINAL).count({ n: '*' }).first();
    return Number(open?.n ?? 0) === 0;
  };
  await runWorker(app, { projectId, concurrency: opts.concurrency, stopWhen: allTerminal });
  await stopFollowing();
  const report = await projectReport(app, await projectById(app.db, projectId), { revealPasswords: true });
  printReport(report, io, opts.json);
  return report.mailboxes.every((m) => m.state === 'done') ? EXIT.ok : EXIT.failed;
}
