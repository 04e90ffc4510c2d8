import { readFile } from 'node:fs/promises';
import type { ImapFlow } from 'imapflow';
import type { AppendItem, AppendOutcome, PipelinedAppender } from './wire/appender.ts';
import { DEFAULT_STALL_SECONDS, uploadAllowanceMs } from './guard.ts';

/** Where a lane's messages go: many per command through the pipelined appender, or one at a time through imapflow. */
export interface AppendTarget {
  readonly maxBatch: number;
  append(folder: string, items: AppendItem[]): Promise<AppendOutcome>;
  /** Returns once the command is on its way, its answer still to come (where the target can pipeline; otherwise once answered). */
  send(folder: string, items: AppendItem[]): Promise<{ outcome: Promise<AppendOutcome> }>;
  /** Where the target pipelines: the folder's messages from `fromUid` on, listed behind the APPENDs sent (PipelinedAppender.sendListing). */
  listAfter?(folder: string, fromUid: number, maxLines: number): Promise<{ lines: Promise<string[] | undefined> }>;
}

export const PIPELINED_BATCH = 64;

export function pipelinedTarget(appender: PipelinedAppender): AppendTarget {
  return {
    maxBatch: PIPELINED_BATCH, append: (folder, items) => appender.append(folder, items), send: (folder, items) => appender.sendAppend(folder, items),
    listAfter: (folder, fromUid, maxLines) => appender.sendListing(folder, fromUid, maxLines),
  };
}

/**
 * For servers without LITERAL+ and MULTIAPPEND. The client must have no mailbox selected (imapflow
 * 2.1.2 filters flags against it). imapflow hands a message to the socket in one write, so its
 * inactivity timer cannot tell a slow upload from a silent server: while one APPEND is owed an
 * answer the timer gets the upload's allowance on top of `stallMs`.
 */
export function imapflowTarget(client: ImapFlow, stallMs = DEFAULT_STALL_SECONDS * 1000): AppendTarget {
  const target: AppendTarget = {
    maxBatch: 1,
    async send(folder, items) {
      const outcome = await target.append(folder, items);
      return { outcome: Promise.resolve(outcome) };
    },
    async append(folder, [item]) {
      const socket = (client as unknown as { socket?: { setTimeout(ms: number): void } }).socket;
      try {
        const content = Buffer.isBuffer(item!.content) ? item!.content : await readFile(item!.content.path);
        socket?.setTimeout(stallMs + uploadAllowanceMs(content.length));
        const result = await client.append(folder, content, item!.flags, item!.internalDate);
        return { ok: true, uids: [result && result.uid ? result.uid : null] };
      } catch (err) {
        const e = err as { responseStatus?: string; responseText?: string; serverResponseCode?: string; message: string };
        if (e.responseStatus === 'NO' || e.responseStatus === 'BAD') return { ok: false, status: e.responseStatus, code: e.serverResponseCode, text: e.responseText || e.message };
        if (e.serverResponseCode === 'APPENDLIMIT') return { ok: false, status: 'NO', code: 'TOOBIG', text: e.message };
        throw err;
      } finally {
        socket?.setTimeout(stallMs);
      }
    },
  };
  return target;
}
