import type { ImapFlow } from 'imapflow';
import type { Logger } from '../log.ts';
import type { ImapEndpoint } from '../plugins/contract.ts';
import { closeQuietly, mapImapError, type ImapOpenOptions } from './imap.ts';
import { holdsIdle, openImapWithinCap, openWithinHostCap, releaseHostSlot } from './host-slots.ts';
import { Pool, type PoolKind } from './pool.ts';
import { PipelinedAppender, type AppenderOptions } from './wire/appender.ts';
import { FetchReader } from './wire/fetcher.ts';

/** A pool within the host's cap whose idle connections are given up when this process waits for a slot on that host. */
function cappedPool<T>(endpoint: ImapEndpoint, max: number, kind: PoolKind<T>): Pool<T> {
  let forget = (): void => undefined;
  const pool: Pool<T> = new Pool<T>({ ...kind, retired: () => forget() }, max);
  forget = holdsIdle(endpoint, () => pool.closeIdle());
  return pool;
}

export function imapPool(endpoint: ImapEndpoint, max: number, log?: Logger, opts?: ImapOpenOptions): Pool<ImapFlow> {
  return cappedPool<ImapFlow>(endpoint, max, {
    open: () => openImapWithinCap(endpoint, log, opts),
    usable: (client) => client.usable,
    destroy: (client) => client.close(),
    close: closeQuietly,
  });
}

/** A pool of our own raw sessions (appenders, FETCH readers) within the same per-host cap as every other connection. */
function rawPool<T extends { usable: boolean; close(): unknown }>(endpoint: ImapEndpoint, max: number, connect: () => Promise<T>, end: (item: T) => unknown): Pool<T> {
  return cappedPool<T>(endpoint, max, {
    open: () => openWithinHostCap(endpoint, async () => {
      try {
        return await connect();
      } catch (err) {
        throw mapImapError(err, endpoint.host, 'login');
      }
    }),
    usable: (item) => item.usable,
    destroy: (item) => { item.close(); releaseHostSlot(item); },
    close: async (item) => { await end(item); releaseHostSlot(item); },
  });
}

export function appenderPool(endpoint: ImapEndpoint, max: number, opts: AppenderOptions = {}): Pool<PipelinedAppender> {
  return rawPool(endpoint, max, () => PipelinedAppender.connect(endpoint, opts), (appender) => appender.close());
}

/** Source sessions for the lanes: our own FETCH reader. */
export function readerPool(endpoint: ImapEndpoint, max: number, opts: AppenderOptions = {}): Pool<FetchReader> {
  return rawPool(endpoint, max, () => FetchReader.connect(endpoint, opts), (reader) => reader.logout({ holdProcess: false }));
}
