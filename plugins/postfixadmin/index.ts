import { readFileSync } from 'node:fs';
import net from 'node:net';
import knexFactory, { type Knex } from 'knex';
import { z } from 'zod';
import { CutoverError } from '../../server/errors.ts';
import type { Account, DavEndpoint, PlatformConnector, PluginModule, SieveEndpoint } from '../../server/plugins/contract.ts';
import { davEndpointFrom, davSettingsSchema, readSecret, sieveEndpointFrom, sieveSettingsSchema } from '../../server/groupware/settings.ts';
import { hashPassword } from './password.ts';
import { isLoopback } from '../../server/loopback.ts';
import { hostname } from '../../server/net.ts';

const secretSchema = z.object({ password: z.string().min(1).meta({ secret: true }).optional(), passwordFile: z.string().min(1).optional(), passwordEnv: z.string().min(1).optional() })
  .refine((s) => [s.password, s.passwordFile, s.passwordEnv].filter(Boolean).length === 1, 'give exactly one of password, passwordFile, passwordEnv');

const configSchema = z.object({
  database: z.discriminatedUnion('client', [
    z.object({ client: z.literal('sqlite3'), filename: z.string().min(1) }),
    z.object({ client: z.literal('pg'), connection: z.string().min(1).meta({ secret: true, description: 'PostgreSQL connection string (postgres://user:password@host/db)' }) }),
  ]),
  imap: z.object({
    host: hostname,
    port: z.number().int().min(1).max(65535),
    security: z.enum(['tls', 'starttls', 'none']),
    tlsVerify: z.boolean().default(true),
    caFile: z.string().optional(),
    allowPlaintext: z.boolean().default(false),
  }).refine((i) => i.security !== 'none' || i.allowPlaintext || isLoopback(i.host), 'security "none" sends passwords in clear: allowed only to a loopback host or with allowPlaintext: true'),
  masterUser: z.object({ user: z.string().min(1), separator: z.string().length(1).default('*') }).and(secretSchema).optional(),
  mailHost: hostname,
  expectedDns: z.object({
    mx: z.array(z.object({ priority: z.number().int().min(0).max(65535), exchange: hostname })).min(1),
    spfIncludes: z.array(hostname).default([]),
  }),
  maxMailboxBytes: z.number().int().positive().optional(),
  /** CalDAV/CardDAV next to the mail (Radicale, SOGo, Nextcloud…): each account's own address and password, or `admin`. */
  dav: davSettingsSchema.optional(),
  /** ManageSieve of Dovecot Pigeonhole (usually port 4190, STARTTLS); logs in like IMAP (master user where configured). */
  sieve: sieveSettingsSchema.optional(),
  relayTable: z.string().regex(/^[a-z_][a-z0-9_]*$/).default('cutover_domain_relay'),
}).strict();

export type PostfixAdminConfig = z.infer<typeof configSchema>;

function splitAddress(address: string): { local: string; domain: string } {
  const at = address.lastIndexOf('@');
  return { local: address.slice(0, at), domain: address.slice(at + 1) };
}

interface MailboxRow { username: string; domain: string; quota: number | null; active: number | boolean }

function toAccount(row: MailboxRow): Account {
  return { address: row.username, active: Boolean(row.active), quotaBytes: row.quota ? Number(row.quota) : null };
}

function now(): string {
  return new Date().toISOString().replace('T', ' ').slice(0, 19);
}

class PostfixAdminPlatform implements PlatformConnector {
  readonly capabilities;
  private readonly db: Knex;

  constructor(private readonly config: PostfixAdminConfig) {
    this.capabilities = {
      attachDomain: true, renameAccount: true, createAccount: true, resetAccount: true, listAccounts: true,
      masterUser: Boolean(config.masterUser), maxMailboxBytes: config.maxMailboxBytes,
    };
    this.db = config.database.client === 'sqlite3'
      ? knexFactory({ client: 'sqlite3', connection: { filename: config.database.filename }, useNullAsDefault: true, pool: { min: 0, max: 1, afterCreate: sqliteBusyTimeout } })
      : knexFactory({ client: 'pg', connection: config.database.connection, pool: { min: 0, max: 2 } });
  }

  // SQLite: a deferred transaction that reads and then writes cannot wait for another process's
  // write lock (SQLITE_BUSY at once, the busy timeout is not applied to the upgrade). Its first
  // statement here is a write that touches nothing, so the lock is taken up front, as BEGIN
  // IMMEDIATE would, and waits out the busy timeout like any other write.
  private writeTransaction<T>(work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
    if (this.config.database.client !== 'sqlite3') return this.db.transaction(work);
    return this.db.transaction(async (trx) => {
      await trx.raw('UPDATE mailbox SET username = username WHERE 0');
      return work(trx);
    });
  }

  private async guard<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof CutoverError) throw err;
      throw new CutoverError('PLATFORM_FAILED', { platform: 'postfixadmin', detail: `${what}: ${(err as Error).message}` }, { retryable: true, cause: err });
    }
  }

  async testConnection(): Promise<void> {
    await this.guard('database', async () => { await this.db('domain').count({ n: '*' }); });
    await probeTcp(this.config.imap.host, this.config.imap.port);
  }

  domainExists(domain: string): Promise<boolean> {
    return this.guard('domain lookup', async () => Boolean(await this.db('domain').where({ domain }).first()));
  }

  attachDomain(domain: string, mode: 'nonAuthoritative', relayHost: string): Promise<{ state: 'ok' }> {
    return this.guard('attach domain', async () => {
      await this.ensureRelayTable();
      await this.writeTransaction(async (trx) => {
        const existing = await trx('domain').where({ domain }).first();
        if (!existing) await trx('domain').insert({ domain, description: 'attached by cutover', active: 1, created: now(), modified: now() });
        const relay = await trx(this.config.relayTable).where({ domain }).first();
        if (!relay) await trx(this.config.relayTable).insert({ domain, mode, relay_host: relayHost });
        else if (relay.relay_host !== relayHost || relay.mode !== mode) await trx(this.config.relayTable).where({ domain }).update({ mode, relay_host: relayHost });
      });
      return { state: 'ok' as const };
    });
  }

  detachRelay(domain: string): Promise<{ removed: boolean }> {
    return this.guard('detach relay', async () => {
      if (!(await this.db.schema.hasTable(this.config.relayTable))) return { removed: false };
      return { removed: (await this.db(this.config.relayTable).where({ domain }).delete()) > 0 };
    });
  }

  // PostfixAdmin has no notion of a non-authoritative domain; this table is what Postfix's
  // lookups read for recipients not held here (postfix-maps.ts, README: "Non-authoritative domains").
  private async ensureRelayTable(): Promise<void> {
    if (await this.db.schema.hasTable(this.config.relayTable)) return;
    await this.db.schema.createTable(this.config.relayTable, (t) => {
      t.string('domain').primary();
      t.string('mode').notNullable();
      t.string('relay_host').notNullable();
    }).catch(async (err: Error) => {
      if (!(await this.db.schema.hasTable(this.config.relayTable))) throw err;
    });
  }

  listAccounts(domain: string): Promise<Account[]> {
    return this.guard('list accounts', async () => {
      const rows: MailboxRow[] = await this.db('mailbox').where({ domain }).andWhere('active', 1).orderBy('username');
      return rows.map(toAccount);
    });
  }

  getAccount(address: string): Promise<Account | null> {
    return this.guard('account lookup', async () => {
      const row: MailboxRow | undefined = await this.db('mailbox').where({ username: address }).first();
      return row ? toAccount(row) : null;
    });
  }

  renameAccount(from: string, to: string): Promise<{ renamed: boolean }> {
    return this.guard('rename account', () => this.writeTransaction(async (trx) => {
      const source = await trx('mailbox').where({ username: from }).first();
      const target = await trx('mailbox').where({ username: to }).first();
      if (!source && target) return { renamed: false };
      if (!source) throw new CutoverError('SOURCE_ACCOUNT_MISSING', { address: from, platform: 'postfixadmin' });
      if (target) throw new CutoverError('DEST_ADDRESS_TAKEN', { address: to, platform: 'source' });
      // The maildir column is left alone, so the mail stays where it is and follows the new name.
      await trx('mailbox').where({ username: from }).update({ username: to, local_part: splitAddress(to).local, modified: now() });
      const own: { goto: string; domain: string } | undefined = await trx('alias').where({ address: from }).first();
      const goto = own ? own.goto.split(',').map((g) => (g.trim() === from ? to : g.trim())).join(',') : to;
      await trx('alias').where({ address: from }).delete();
      await trx('alias').insert({ address: to, goto, domain: splitAddress(to).domain, active: 1, created: now(), modified: now() });
      // Mail still sent to the original address while DNS moves lands in the renamed mailbox,
      // which is where delta-sync picks it up.
      await trx('alias').insert({ address: from, goto: to, domain: splitAddress(from).domain, active: 1, created: now(), modified: now() });
      return { renamed: true };
    }));
  }

  createAccount(spec: { address: string; password: string; quotaBytes: number | null }): Promise<{ created: boolean }> {
    return this.guard('create account', () => this.writeTransaction(async (trx) => {
      if (await trx('mailbox').where({ username: spec.address }).first()) return { created: false };
      const { local, domain } = splitAddress(spec.address);
      if (!(await trx('domain').where({ domain }).first())) throw new CutoverError('DOMAIN_UNKNOWN', { domain, platform: 'postfixadmin' });
      await trx('mailbox').insert({
        username: spec.address, password: hashPassword(spec.password), name: '', maildir: await freeMaildir(trx, domain, local),
        quota: spec.quotaBytes ?? 0, local_part: local, domain, active: 1, created: now(), modified: now(),
      });
      await trx('alias').where({ address: spec.address }).delete();
      await trx('alias').insert({ address: spec.address, goto: spec.address, domain, active: 1, created: now(), modified: now() });
      return { created: true };
    }));
  }

  resetAccount(address: string): Promise<void> {
    return this.guard('reset account', () => this.writeTransaction(async (trx) => {
      await trx('alias').where({ address }).orWhere({ goto: address }).delete();
      await trx('mailbox').where({ username: address }).delete();
    }));
  }

  async imapEndpoint(address: string, password?: string) {
    const { imap, masterUser } = this.config;
    const ca = imap.caFile ? readFileSync(imap.caFile, 'utf8') : undefined;
    const base = { host: imap.host, port: imap.port, security: imap.security, tlsVerify: imap.tlsVerify, ca };
    if (masterUser) return { ...base, auth: { user: `${address}${masterUser.separator}${masterUser.user}`, pass: readSecret(masterUser, ' (masterUser)') } };
    if (!password) throw new CutoverError('CONFIG_INVALID', { where: ' for plugin postfixadmin', detail: `no master user configured and no password known for ${address}` });
    return { ...base, auth: { user: address, pass: password } };
  }

  async davEndpoint(address: string, password?: string): Promise<DavEndpoint | null> {
    return this.config.dav ? davEndpointFrom(this.config.dav, address, password, 'postfixadmin') : null;
  }

  async sieveEndpoint(address: string, password?: string): Promise<SieveEndpoint | null> {
    const { sieve, masterUser } = this.config;
    if (!sieve) return null;
    if (masterUser) return sieveEndpointFrom(sieve, { user: `${address}${masterUser.separator}${masterUser.user}`, pass: readSecret(masterUser, ' (masterUser)') });
    if (!password) throw new CutoverError('CONFIG_INVALID', { where: ' for plugin postfixadmin', detail: `no master user configured and no password known for ${address}` });
    return sieveEndpointFrom(sieve, { user: address, pass: password });
  }

  async expectedDns() {
    return { mx: this.config.expectedDns.mx, spfIncludes: this.config.expectedDns.spfIncludes };
  }

  async mailHost(): Promise<string> {
    return this.config.mailHost;
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}

// A renamed account keeps its maildir, so `{domain}/{local}/` may already hold someone's mail.
async function freeMaildir(trx: Knex.Transaction, domain: string, local: string): Promise<string> {
  for (let n = 0; ; n++) {
    const candidate = n === 0 ? `${domain}/${local}/` : `${domain}/${local}.${n}/`;
    if (!(await trx('mailbox').where({ maildir: candidate }).first())) return candidate;
  }
}

function sqliteBusyTimeout(conn: { run(sql: string, cb: (err: Error | null) => void): void }, done: (err: Error | null, conn: unknown) => void): void {
  conn.run('PRAGMA busy_timeout = 10000', (err) => done(err, conn));
}

function probeTcp(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, timeout: 10_000 });
    socket.once('connect', () => { socket.destroy(); resolve(); });
    socket.once('timeout', () => { socket.destroy(); reject(new CutoverError('HOST_UNREACHABLE', { host: `${host}:${port}`, detail: 'connection timed out' }, { retryable: true })); });
    socket.once('error', (err) => reject(new CutoverError('HOST_UNREACHABLE', { host: `${host}:${port}`, detail: err.message }, { retryable: true })));
  });
}

const plugin: PluginModule<PostfixAdminConfig> = {
  id: 'postfixadmin',
  description: 'Dovecot/Postfix hosts provisioned through PostfixAdmin-style SQL tables',
  configSchema: configSchema as unknown as PluginModule<PostfixAdminConfig>['configSchema'],
  platform: (config) => new PostfixAdminPlatform(config),
};

export default plugin;
