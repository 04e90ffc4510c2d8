import { z } from 'zod';
import type { Db } from '../knex.ts';
import { CutoverError } from '../../errors.ts';
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
  /** A mail server silent this long while it owes an answer (or a folder with no message moving) fails the pass, which is retried (`--stall-timeout`). */
  stallTimeoutSeconds: z.number().int().min(STALL_SECONDS_MIN).max(STALL_SECONDS_MAX).default(DEFAULT_STALL_SECONDS),
});

export type ProjectOptions = z.infer<typeof projectOptionsSchema>;

export interface ProjectRow { id: number; name: string; source_platform_id: number; dest_platform_id: number; options: string; state: string; created_at: string }

export function projectOptions(row: ProjectRow): ProjectOptions {
  return projectOptionsSchema.parse(JSON.parse(row.options));
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

export function listProjects(db: Db): Promise<ProjectRow[]> {
  return db<ProjectRow>('projects').orderBy('id');
}
