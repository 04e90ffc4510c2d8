import { readFileSync } from 'node:fs';
import { openContext, type AppContext } from '../../server/context.ts';
import type { MailboxRow } from '../../server/db/repos/mailboxes.ts';
import { insertPlatform } from '../../server/db/repos/platforms.ts';
import { confirmDomainStep } from '../../server/services/actions.ts';
import { createDomainMigration } from '../../server/services/projects.ts';
import { tempDataDir } from './cli.ts';
import { DOMAIN, NEW_MX, OLD_MX, writePlatformConfig, type Landscape } from './platforms.ts';

export interface OneMailboxProject { app: AppContext; projectId: number; row(): Promise<MailboxRow> }

/**
 * A domain migration of `address` from the landscape's old platform to its new one, where the old
 * platform's accounts live in its Dovecot's SQL tables but its IMAP is reached at `oldImapPort` (a
 * hostile server, a throttling proxy). dns-cutover is confirmed, so the steps run straight through.
 */
export async function oneMailboxProject(land: Landscape, address: string, oldImapPort: number, name: string, options: Record<string, unknown>): Promise<OneMailboxProject> {
  const dataDir = tempDataDir();
  const app = await openContext({ CUTOVER_DATA_DIR: dataDir, CUTOVER_LOG_LEVEL: 'silent' });
  const configs = [['old', writePlatformConfig(land.old, dataDir, 'old', OLD_MX, { port: oldImapPort })], ['new', writePlatformConfig(land.new, dataDir, 'new', NEW_MX)]] as const;
  for (const [platform, file] of configs) await insertPlatform(app.db, app.box, platform, 'postfixadmin', app.plugins.parseConfig('postfixadmin', JSON.parse(readFileSync(file, 'utf8'))));
  const { projectId } = await createDomainMigration(app, { from: 'old', to: 'new', domain: DOMAIN, name, options, actor: 'test' });
  const domain = await app.db('domains').where({ project_id: projectId }).first();
  await confirmDomainStep(app, projectId, domain.id, 'dns-cutover', 'test');
  const row = async () => app.db<MailboxRow>('mailboxes').where({ project_id: projectId, address }).first() as Promise<MailboxRow>;
  return { app, projectId, row };
}
