import type { ImapFlow } from 'imapflow';
import type { Logger } from '../log.ts';
import type { ImapEndpoint } from '../plugins/contract.ts';
import { closeQuietly, mapImapError, type ImapOpenOptions } from './imap.ts';
import { openImapWithinCap, openWithinHostCap, releaseHostSlot } from './host-slots.ts';
import { Pool } from './pool.ts';
import { PipelinedAppender, type AppenderOptions } from './wire/appender.ts';
import { FetchReader } from './wire/fetcher.ts';

export function imapPool(endpoint: ImapEndpoint, max: number, log?: Logger, opts?: ImapOpenOptions): Pool<ImapFlow> {
  return new Pool<ImapFlow>({
    open: () => openImapWithinCap(endpoint, log, opts),
    usable: (client) => client.usable,
    destroy: (client) => client.close(),
    close: closeQuietly,
  }, max);
}

export function appenderPool(endpoint: ImapEndpoint, max: number, opts: AppenderOptions = {}): Pool<PipelinedAppender> {
  return new Pool<PipelinedAppender>({
    open: () => openWithinHostCap(endpoint, async () => {
      try {
        return await PipelinedAppender.connect(endpoint, opts);
      } catch (err) {
        throw mapImapError(err, endpoint.host, 'login');
      }
    }),
    usable: (appender) => appender.usable,
    destroy: (appender) => { appender.close(); releaseHostSlot(appender); },
    close: async (appender) => { await appender.close(); releaseHostSlot(appender); },
  }, max);
}

/** Source sessions for the lanes: our own FETCH reader, within the same per-host cap as every other connection. */
export function readerPool(endpoint: ImapEndpoint, max: number, opts: AppenderOptions = {}): Pool<FetchReader> {
  return new Pool<FetchReader>({
    open: () => openWithinHostCap(endpoint, async () => {
      try {
        return await FetchReader.connect(endpoint, opts);
      } catch (err) {
        throw mapImapError(err, endpoint.host, 'login');
      }
    }),
    usable: (reader) => reader.usable,
    destroy: (reader) => { reader.close(); releaseHostSlot(reader); },
    close: async (reader) => { await reader.logout(); releaseHostSlot(reader); },
  }, max);
}
