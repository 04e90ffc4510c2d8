import type { ImapFlow } from 'imapflow';
import type { Logger } from '../log.ts';
import type { ImapEndpoint } from '../plugins/contract.ts';
import { closeQuietly, mapImapError, openImap, type ImapOpenOptions } from './imap.ts';
import { Pool } from './pool.ts';
import { PipelinedAppender } from './wire/appender.ts';

export function imapPool(endpoint: ImapEndpoint, max: number, log?: Logger, opts?: ImapOpenOptions): Pool<ImapFlow> {
  return new Pool<ImapFlow>({
    open: () => openImap(endpoint, log, opts),
    usable: (client) => client.usable,
    destroy: (client) => client.close(),
    close: closeQuietly,
  }, max);
}

export function appenderPool(endpoint: ImapEndpoint, max: number): Pool<PipelinedAppender> {
  return new Pool<PipelinedAppender>({
    open: async () => {
      try {
        return await PipelinedAppender.connect(endpoint);
      } catch (err) {
        throw mapImapError(err, endpoint.host, 'login');
      }
    },
    usable: (appender) => appender.usable,
    destroy: (appender) => appender.close(),
    close: async (appender) => appender.close(),
  }, max);
}
