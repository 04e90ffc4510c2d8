import type { Knex } from 'knex';
import * as initial from './001_initial.ts';
import * as checkpoints from './002_checkpoints.ts';
import * as panel from './003_panel.ts';
import * as audit from './004_audit.ts';
import * as imports from './005_imports.ts';
import * as notifications from './006_notifications.ts';
import * as syncPoints from './007_sync_points.ts';
import * as mailboxLogins from './008_mailbox_logins.ts';
import * as fleet from './009_fleet.ts';
import * as groupware from './010_groupware.ts';
import * as deltaMirror from './011_delta_mirror.ts';
import * as watchedDomains from './012_watched_domains.ts';
import * as fileUploads from './013_file_uploads.ts';
import * as daily from './014_daily.ts';
import * as groupwareExclusions from './016_groupware_exclusions.ts';

type Migration = { up(db: Knex): Promise<void>; down(db: Knex): Promise<void> };

// Listed explicitly so migrations work the same under tsx, compiled code and a bundler.
const ordered: Array<[string, Migration]> = [['001_initial', initial], ['002_checkpoints', checkpoints], ['003_panel', panel], ['004_audit', audit], ['005_imports', imports], ['006_notifications', notifications], ['007_sync_points', syncPoints], ['008_mailbox_logins', mailboxLogins], ['009_fleet', fleet], ['010_groupware', groupware], ['011_delta_mirror', deltaMirror], ['012_watched_domains', watchedDomains], ['013_file_uploads', fileUploads], ['014_daily', daily], ['016_groupware_exclusions', groupwareExclusions]];

export const migrations: Knex.MigrationSource<string> = {
  getMigrations: async () => ordered.map(([name]) => name),
  getMigrationName: (name) => name,
  getMigration: async (name) => ordered.find(([n]) => n === name)![1],
};
