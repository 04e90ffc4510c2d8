import { z } from 'zod';
import { CutoverError } from '../../server/errors.ts';
import type { Account, ExpectedDns, ImapEndpoint, PlatformCapabilities, PlatformConnector, PluginModule } from '../../server/plugins/contract.ts';

const configSchema = z.object({}).strict();
type FilesConfig = z.infer<typeof configSchema>;

/**
 * The source of a "file import" project: no server, only the files the admin uploads on each
 * mailbox's page. Every address is taken as an account (the files are its mail); nothing can be
 * logged in to, renamed or reset, and the workflow reads the uploads instead (server/workflow/file-source.ts).
 */
export class FilesPlatform implements PlatformConnector {
  readonly capabilities: PlatformCapabilities = {
    attachDomain: false, renameAccount: false, createAccount: false, resetAccount: false, listAccounts: false, masterUser: false,
    mailFromFiles: true,
  };

  private cannot(action: string): never {
    throw new CutoverError('PLATFORM_CANNOT', { platform: 'files', action, detail: 'the mail of a file import comes from files uploaded on each mailbox page, not from a server' });
  }

  async testConnection(): Promise<void> {}
  async domainExists(): Promise<boolean> { return true; }
  async getAccount(address: string): Promise<Account | null> { return { address, active: true, quotaBytes: null }; }
  async attachDomain(): Promise<{ state: 'ok' | 'pending' }> { return this.cannot('attach a domain'); }
  async listAccounts(): Promise<Account[]> { return this.cannot('list accounts'); }
  async renameAccount(): Promise<{ renamed: boolean }> { return this.cannot('rename an account'); }
  async createAccount(): Promise<{ created: boolean }> { return this.cannot('create an account'); }
  async resetAccount(): Promise<void> { return this.cannot('reset an account'); }
  async imapEndpoint(): Promise<ImapEndpoint> { return this.cannot('be logged in to over IMAP'); }
  async mailHost(): Promise<string> { return this.cannot('receive mail'); }
  async expectedDns(): Promise<ExpectedDns> { return { mx: [], spfIncludes: [] }; }
  async close(): Promise<void> {}
}

const plugin: PluginModule<FilesConfig> = {
  id: 'files',
  description: 'No server: each mailbox\'s mail, contacts and calendars come from files uploaded on its page (Outlook PST, mbox, EML or a ZIP of them, ICS, VCF). A source only.',
  configSchema,
  platform: () => new FilesPlatform(),
};

export default plugin;
