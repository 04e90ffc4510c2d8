import { randomBytes } from 'node:crypto';
import knexFactory, { type Knex } from 'knex';
import type { DovecotInstance } from '../../../server/devservers/dovecot.ts';
import { hashPassword } from '../../../plugins/postfixadmin/password.ts';
import type { MailBackend } from './state.ts';

/**
 * A real Dovecot as the IMAP side of a fake OVHcloud service: when a task of the fake finishes,
 * the account appears, is renamed, gets its password or goes away in Dovecot's PostfixAdmin
 * tables, so what the connector did through the API is what an IMAP client then sees. A rename
 * keeps the maildir, so the mail follows the account as it does on the real platform.
 */
export class DovecotBackend implements MailBackend {
  private readonly db: Knex;

  constructor(readonly inst: DovecotInstance) {
    this.db = knexFactory({ client: 'sqlite3', connection: { filename: inst.dbPath }, useNullAsDefault: true, pool: { min: 0, max: 1 } });
  }

  async ensureDomain(domain: string): Promise<void> {
    if (!(await this.db('domain').where({ domain }).first())) await this.db('domain').insert({ domain });
  }

  async create(address: string, password: string | null, quotaBytes: number): Promise<void> {
    const at = address.lastIndexOf('@');
    const local = address.slice(0, at);
    const domain = address.slice(at + 1);
    await this.ensureDomain(domain);
    if (await this.db('mailbox').where({ username: address }).first()) return;
    // A fresh maildir each time: a reset account's mail must not reappear in the next one.
    const maildir = `${domain}/${local}.${randomBytes(3).toString('hex')}/`;
    await this.db('mailbox').insert({ username: address, password: hashPassword(password ?? randomBytes(16).toString('hex')), maildir, quota: Math.round(quotaBytes), local_part: local, domain });
    await this.db('alias').insert({ address, goto: address, domain }).onConflict('address').ignore();
  }

  async rename(from: string, to: string): Promise<void> {
    const at = to.lastIndexOf('@');
    await this.db.transaction(async (trx) => {
      await trx('mailbox').where({ username: from }).update({ username: to, local_part: to.slice(0, at), domain: to.slice(at + 1) });
      await trx('alias').where({ address: from }).delete();
      await trx('alias').insert({ address: to, goto: to, domain: to.slice(at + 1) }).onConflict('address').ignore();
    });
  }

  async setPassword(address: string, password: string): Promise<void> {
    await this.db('mailbox').where({ username: address }).update({ password: hashPassword(password) });
  }

  async remove(address: string): Promise<void> {
    await this.db('alias').where({ address }).delete();
    await this.db('mailbox').where({ username: address }).delete();
  }

  close(): Promise<void> {
    return this.db.destroy();
  }
}
