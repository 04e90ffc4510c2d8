import { z } from 'zod';
import type { Db } from '../knex.ts';
import { CutoverError } from '../../errors.ts';
import { copyWindowSchema, isTimeZone, letterLanguagesSchema, MAX_RETENTION_DAYS } from './project-schedule-schema.ts';
import { MAX_BYTES_PER_SECOND } from '../../mail/bandwidth.ts';
import { DEFAULT_STALL_SECONDS, STALL_SECONDS_MAX, STALL_SECONDS_MIN } from '../../mail/guard.ts';

export const projectOptionsSchema = z.object({
  tempPattern: z.string().refine((p) => p.includes('{local}') && p.includes('{domain}') && /\{nn?\}/.test(p), 'must contain {local}, {domain} and {nn} (or {n})').default('{local}{nn}@{domain}'),
  overlapSeconds: z.number().int().min(0).default(86_400),
  deltaIntervalSeconds: z.number().int().min(0).default(3_600),
  resetSource: z.boolean().default(false),
  concurrency: z.number().int().min(1).max(64).default(4),
  nameservers: z.array(z.string()).default([]),
  dnsRecheckSeconds: z.number().int().min(1).default(300),
  /** A platform row whose plugin is a DNS provider (e.g. rfc2136): the dns-cutover step changes the zone itself. */
  dnsProvider: z.string().min(1).optional(),
  /** The zone's authoritative servers (HOST:PORT), instead of its NS records: hidden primaries, test servers. */
  authoritativeServers: z.array(z.string()).default([]),
  /** TTL the changed records are published with; higher TTLs are lowered to it first (0: change at once, keep TTLs). */
  dnsLowTtl: z.number().int().min(0).default(300),
  excludeFolders: z.array(z.string()).default([]),
  /** Delta passes remove copies of messages expunged (or moved) on the source; false keeps every copy (`--no-mirror-deletes`). */
  mirrorDeletes: z.boolean().default(true),
  maxMessageBytes: z.number().int().positive().optional(),
  /** manual: mailboxes wait (paused) until an admin starts the project. */
  startMode: z.enum(['auto', 'manual']).default('auto'),
  /** Who is mailed when the project starts, completes or fails, and when a mailbox needs an admin. */
  notify: z.array(z.email()).default([]),
  /** What moves besides the mail, where both platforms offer it (CalDAV/CardDAV, ManageSieve). */
  groupware: z.object({ contacts: z.boolean().default(true), calendars: z.boolean().default(true), filters: z.boolean().default(true) }).default({ contacts: true, calendars: true, filters: true }),
  /** Collections left out, by display name or href (a calendar, an address book; "sieve:" for the filters). */
  excludeCollections: z.array(z.string().min(1).max(1000)).max(1000).default([]),
  /** Mailboxes wait until then (ISO time with its offset): OMM's "later, at a date and time". */
  startAt: z.iso.datetime({ offset: true }).optional(),
  /** Copy passes run only inside it, e.g. 20:00–07:00 Europe/Paris (server/workflow/window.ts). */
  copyWindow: copyWindowSchema.optional(),
  /** Bytes per second for the project's copy passes together, like imapsync's --maxbytespersecond. */
  maxBytesPerSecond: z.number().int().min(1024).max(MAX_BYTES_PER_SECOND).optional(),
  /** Days after the project ends before its migration data (passwords, ledger rows, skip list, files) is purged. */
  retentionDays: z.number().int().min(0).max(MAX_RETENTION_DAYS).default(60),
  /** The languages of the letters to the end users, in the order they appear in each mail. */
  letterLanguages: letterLanguagesSchema.default(['en', 'fr']),
  /** Which letters go to the end users: before the move (to the current address), after it (to the new mailbox). */
  letters: z.object({ before: z.boolean().default(false), after: z.boolean().default(false) }).default({ before: false, after: false }),
  /** The zone times are given in to the end users (their letters) and the start time is shown in. */
  timeZone: z.string().refine(isTimeZone, 'an IANA time zone such as Europe/Paris').default('UTC'),
  /** A mail server silent this long while it owes an answer (or a folder with no message moving) fails the pass, which is retried (`--stall-timeout`). */
  stallTimeoutSeconds: z.number().int().min(STALL_SECONDS_MIN).max(STALL_SECONDS_MAX).default(DEFAULT_STALL_SECONDS),
});

export type ProjectOptions = z.infer<typeof projectOptionsSchema>;

export interface ProjectRow { id: number; name: string; source_platform_id: number; dest_platform_id: number; options: string; state: string; created_at: string; ended_at?: string | null; purged_at?: string | null }

// A worker parses its project's options before every step: the same text gives the same options.
let lastParsed: { text: string; options: ProjectOptions } | undefined;

export function projectOptions(row: ProjectRow): ProjectOptions {
  if (lastParsed?.text !== row.options) lastParsed = { text: row.options, options: projectOptionsSchema.parse(JSON.parse(row.options)) };
  return structuredClone(lastParsed.options);
}

export async function projectByName(db: Db, name: string): Promise<ProjectRow> {
  const row = await db<ProjectRow>('projects').where({ name }).first();
  if (!row) throw new CutoverError('PROJECT_UNKNOWN', { name });
  return row;
}

export async function projectById(db: Db, id: number): Promise<ProjectRow> {
  const row = await db<ProjectRow>('projects').where({ id }).first();
  if (!row) throw new CutoverError('PROJECT_UNKNOWN', { name: `#${id}` });
  return row;
}

/** A project with the names of its two platforms, in one query (the project page). */
export async function projectWithPlatformNames(db: Db, id: number): Promise<{ project: ProjectRow; source: string; destination: string }> {
  const row = await db('projects')
    .join('platforms as source', 'source.id', 'projects.source_platform_id')
    .join('platforms as dest', 'dest.id', 'projects.dest_platform_id')
    .where('projects.id', id)
    .first('projects.*', 'source.name as source_platform_name', 'dest.name as dest_platform_name');
  if (!row) throw new CutoverError('PROJECT_UNKNOWN', { name: `#${id}` });
  const { source_platform_name: source, dest_platform_name: destination, ...project } = row as ProjectRow & { source_platform_name: string; dest_platform_name: string };
  return { project, source, destination };
}

/** How the timeline names a platform: its name and plugin. */
export const platformLabel = (row: { name: string; plugin: string }): string => `${row.name} (${row.plugin})`;

export interface ProjectForStep { project: ProjectRow; sourceSealed: string; destSealed: string; sourceLabel: string; destLabel: string }

/** A project with what a worker needs of its two platforms (sealed configs, labels), in one query: read before each step. */
export async function projectForStep(db: Db, id: number): Promise<ProjectForStep> {
  const row = await db('projects')
    .join('platforms as source', 'source.id', 'projects.source_platform_id')
    .join('platforms as dest', 'dest.id', 'projects.dest_platform_id')
    .where('projects.id', id)
    .first('projects.*', 'source.config_sealed as source_sealed_config', 'dest.config_sealed as dest_sealed_config',
      'source.name as source_platform_name', 'source.plugin as source_platform_plugin', 'dest.name as dest_platform_name', 'dest.plugin as dest_platform_plugin');
  if (!row) throw new CutoverError('PROJECT_UNKNOWN', { name: `#${id}` });
  const {
    source_sealed_config: sourceSealed, dest_sealed_config: destSealed,
    source_platform_name: sourceName, source_platform_plugin: sourcePlugin, dest_platform_name: destName, dest_platform_plugin: destPlugin, ...project
  } = row as ProjectRow & Record<'source_sealed_config' | 'dest_sealed_config' | 'source_platform_name' | 'source_platform_plugin' | 'dest_platform_name' | 'dest_platform_plugin', string>;
  return { project, sourceSealed, destSealed, sourceLabel: platformLabel({ name: sourceName, plugin: sourcePlugin }), destLabel: platformLabel({ name: destName, plugin: destPlugin }) };
}

export function listProjects(db: Db): Promise<ProjectRow[]> {
  return db<ProjectRow>('projects').orderBy('id');
}
