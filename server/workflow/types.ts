import type { Db } from '../db/knex.ts';
import type { DomainRow } from '../db/repos/domains.ts';
import type { MailboxPatch, MailboxRow } from '../db/repos/mailboxes.ts';
import type { ProjectOptions, ProjectRow } from '../db/repos/projects.ts';
import type { Logger } from '../log.ts';
import type { PlatformConnector } from '../plugins/contract.ts';
import type { SecretBox } from '../secrets.ts';

export type StepOutcome =
  | { kind: 'done'; message: string }
  | { kind: 'wait'; until: number; message: string }
  | { kind: 'manual'; instructions: string };

export interface StepContext {
  db: Db;
  box: SecretBox;
  log: Logger;
  project: ProjectRow;
  options: ProjectOptions;
  mailbox: MailboxRow;
  domain: DomainRow;
  source: PlatformConnector;
  dest: PlatformConnector;
  /** The two platforms as the timeline names them, "name (plugin)", when the worker read them with the project. */
  platformLabels?: { source: string; dest: string };
  now(): number;
  /** Persists a patch of the mailbox row at once, so a crash after it never repeats the work. */
  save(patch: MailboxPatch): Promise<void>;
  /** Progress for the timeline and the CLI, without a state change. */
  note(message: string): Promise<void>;
}

export interface Step {
  id: string;
  /** Domain steps run once per domain of a project; every mailbox of the domain waits on the shared row. */
  level: 'mailbox' | 'domain';
  title: string;
  run(ctx: StepContext): Promise<StepOutcome>;
}

export const done = (message: string): StepOutcome => ({ kind: 'done', message });
export const waitUntil = (until: number, message: string): StepOutcome => ({ kind: 'wait', until, message });
export const manual = (instructions: string): StepOutcome => ({ kind: 'manual', instructions });
