import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { literalLimitFor } from './guard.ts';
import { BODY_ITEMS, type FetchReader, type LiteralSink } from './wire/fetcher.ts';

/** Messages above this size go through a file instead of memory. */
export const SPOOL_ABOVE_BYTES = 2 * 1024 * 1024;
const HEAD_BYTES = 1024 * 1024;

export interface SpooledMessage {
  path: string;
  size: number;
  /** The first megabyte: the header the fingerprint is made of. */
  head: Buffer;
  /** Whether the content holds a NUL byte (it then needs a literal8 on APPEND). */
  hasNul: boolean;
}

/**
 * Large messages are streamed from the source into a temporary file and from there into the
 * destination, so memory does not depend on message size. Files live in one directory per copy, removed at the end.
 */
export class Spool {
  private constructor(private readonly dir: string) {}

  static async create(): Promise<Spool> {
    return new Spool(await mkdtemp(path.join(os.tmpdir(), 'cutover-spool-')));
  }

  /**
   * Streams message `uid` of the reader's folder to disk, straight from the socket: one FETCH, the
   * literal written as it arrives. Undefined when the server did not return it (gone meanwhile,
   * or an answer that did not parse: the reader keeps that line). `onChunk`: each chunk read (a
   * large message downloading is not a stall).
   */
  async fromReader(reader: FetchReader, uid: number, announcedBytes: number, onChunk?: () => void): Promise<SpooledMessage | undefined> {
    const file = path.join(this.dir, `${uid}-${Math.random().toString(36).slice(2)}.eml`);
    const out = createWriteStream(file, { mode: 0o600 });
    const opened = once(out, 'open');
    const headParts: Buffer[] = [];
    let headLength = 0;
    let size = 0;
    let hasNul = false;
    let sinks = 0;
    let returned = false;
    const toFile: LiteralSink = {
      write(chunk) {
        if (headLength < HEAD_BYTES) {
          const part = chunk.subarray(0, HEAD_BYTES - headLength);
          headParts.push(Buffer.from(part));
          headLength += part.length;
        }
        if (!hasNul && chunk.includes(0)) hasNul = true;
        size += chunk.length;
        onChunk?.();
        return out.write(chunk);
      },
      onDrain: (resume) => { out.once('drain', resume); },
    };
    // A server that sends the body twice: the first copy is the one kept, the others are read and dropped.
    const discard: LiteralSink = { write: () => true, onDrain: () => undefined };
    try {
      await opened;
      await reader.fetch(String(uid), BODY_ITEMS, {
        literalLimit: literalLimitFor(announcedBytes),
        bodySink: () => (sinks++ === 0 ? toFile : discard),
        onMessage: (msg) => { if (msg.uid === uid && msg.hadBody && sinks === 1) returned = true; },
      });
    } finally {
      out.end();
      await once(out, 'close').catch(() => undefined);
      if (!returned) await unlink(file).catch(() => undefined);
    }
    if (!returned) return undefined;
    return { path: file, size, head: Buffer.concat(headParts), hasNul };
  }

  async remove(message: SpooledMessage): Promise<void> {
    await unlink(message.path).catch(() => undefined);
  }

  async close(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
