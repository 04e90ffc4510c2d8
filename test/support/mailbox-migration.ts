import { readFileSync } from 'node:fs';
import { openContext, type AppContext } from '../../server/context.ts';
import { insertPlatform } from '../../server/db/repos/platforms.ts';
import type { MailboxRow } from '../../server/db/repos/mailboxes.ts';
import type { ProjectOptions } from '../../server/db/repos/projects.ts';
import type { DovecotOptions } from '../../server/devservers/dovecot.ts';
import { confirmDomainStep } from '../../server/services/actions.ts';
import { createDomainMigration } from '../../server/services/projects.ts';
import { runMailboxStep } from '../../server/workflow/runner.ts';
import { tempDataDir } from './cli.ts';
import { testDatabaseEnv } from './database.ts';
import { DOMAIN, NEW_MX, OLD_MX, startLandscape, writePlatformConfig, type Landscape } from './platforms.ts';

export interface Migration {
  land: Landscape;
  app: AppContext;
  projectId: number;
  mailbox(address: string): Promise<MailboxRow>;
  /** Runs steps with the real runner, one at a time, until `done` says stop (or the mailbox fails). */
  runUntil(address: string, done: (row: MailboxRow) => boolean, maxSteps?: number): Promise<MailboxRow>;
  close(): Promise<void>;
}

/**
 * A real migration of one domain between two test Dovecots, driven in-process by the workflow
 * runner, step by step. dns-cutover is confirmed up front (no DNS here): the mailboxes go
 * through it at once, and delta-sync runs with a closed overlap window.
 */
export async function startMigration(opts: { accounts: Array<{ address: string; password: string }>; old?: DovecotOptions; new?: DovecotOptions; options?: Partial<ProjectOptions>; oldMailHost?: string }): Promise<Migration> {
  const land = await startLandscape({ accounts: opts.accounts, old: opts.old, new: opts.new });
  const dataDir = tempDataDir();
  const app = await openContext({ CUTOVER_DATA_DIR: dataDir, CUTOVER_LOG_LEVEL: 'silent', ...(await testDatabaseEnv()) });
  for (const [name, inst, mx] of [['old', land.old, opts.oldMailHost ?? OLD_MX], ['new', land.new, NEW_MX]] as const) {
    const config = app.plugins.parseConfig('postfixadmin', JSON.parse(readFileSync(writePlatformConfig(inst, dataDir, name, mx), 'utf8')));
    await insertPlatform(app.db, app.box, name, 'postfixadmin', config);
  }
  const { projectId } = await createDomainMigration(app, { from: 'old', to: 'new', domain: DOMAIN, name: 'test', options: { overlapSeconds: 0, ...opts.options }, actor: 'test' });
  const domain = await app.db('domains').where({ project_id: projectId }).first();
  await confirmDomainStep(app, projectId, domain.id, 'dns-cutover', 'test');
  const mailbox = async (address: string) => app.db<MailboxRow>('mailboxes').where({ project_id: projectId, address }).first() as Promise<MailboxRow>;
  return {
    land, app, projectId, mailbox,
    async runUntil(address, done, maxSteps = 20) {
      for (let i = 0; i < maxSteps; i++) {
        const row = await mailbox(address);
        if (done(row)) return row;
        if (row.state === 'failed') throw new Error(`${address} failed at ${row.step}: ${row.error_message}`);
        await runMailboxStep(app, row.id, 'test-worker');
      }
      throw new Error(`${address} did not get there in ${maxSteps} steps: ${JSON.stringify(await mailbox(address))}`);
    },
    async close() {
      await app.close();
      await land.stop();
    },
  };
}

export const atStep = (step: string) => (row: MailboxRow) => row.step === step;
