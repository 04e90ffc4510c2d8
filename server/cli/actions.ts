import { parseArgs } from 'node:util';
import type { AppContext } from '../context.ts';
import { projectByName } from '../db/repos/projects.ts';
import { CutoverError } from '../errors.ts';
import { confirmDomainByName, mailboxAction, type MailboxAction } from '../services/actions.ts';
import { EXIT, actor, type Io } from './output.ts';

export async function actionCommand(app: AppContext, action: MailboxAction, argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { project: { type: 'string' }, domain: { type: 'string' }, step: { type: 'string' } } });
  if (action === 'confirm' && values.domain) {
    if (!values.project) throw new CutoverError('INPUT_INVALID', { detail: 'usage: cutover confirm --project NAME --domain DOMAIN [--step dns-cutover]' });
    const project = await projectByName(app.db, values.project);
    await confirmDomainByName(app, project.id, values.domain, values.step ?? 'dns-cutover', actor());
    io.out(`${values.step ?? 'dns-cutover'} confirmed for ${values.domain}`);
    return EXIT.ok;
  }
  const ref = positionals[0];
  if (!ref) throw new CutoverError('INPUT_INVALID', { detail: `usage: cutover ${action} MAILBOX (its address or id)` });
  const row = await mailboxAction(app, ref, action, actor());
  io.out(`${row.address}: ${row.state} at ${row.step}`);
  return EXIT.ok;
}
