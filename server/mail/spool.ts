import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat, unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ImapFlow } from 'imapflow';

/** Messages above this size go through a file instead of memory. */
export const SPOOL_ABOVE_BYTES = 2 * 1024 * 1024;
const HEAD_BYTES = 1024 * 1024;
const CHUNK_BYTES = 1024 * 1024;

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
 * destination, so memory does not depend on message size (imapflow would hold a whole message,
 * twice over while joining its chunks). Files live in one directory per copy, removed at the end.
 */
export class Spool {
  private constructor(private readonly dir: string) {}

  static async create(): Promise<Spool> {
    return new Spool(await mkdtemp(path.join(os.tmpdir(), 'cutover-spool-')));
  }

  /** Streams message `uid` of the selected folder to disk; undefined when it vanished meanwhile. `onChunk`: each chunk read (a large message downloading is not a stall). */
  async fromSource(client: ImapFlow, uid: number, onChunk?: () => void): Promise<SpooledMessage | undefined> {
    const download = await client.download(String(uid), undefined, { uid: true, chunkSize: CHUNK_BYTES });
    if (!download.content) return undefined;
    const file = path.join(this.dir, `${uid}-${Math.random().toString(36).slice(2)}.eml`);
    const headParts: Buffer[] = [];
    let headLength = 0;
    let hasNul = false;
    const inspect = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        if (headLength < HEAD_BYTES) {
          const part = chunk.subarray(0, HEAD_BYTES - headLength);
          headParts.push(Buffer.from(part));
          headLength += part.length;
        }
        if (!hasNul && chunk.includes(0)) hasNul = true;
        onChunk?.();
        done(null, chunk);
      },
    });
    await pipeline(download.content, inspect, createWriteStream(file, { mode: 0o600 }));
    return { path: file, size: (await stat(file)).size, head: Buffer.concat(headParts), hasNul };
  }

  async remove(message: SpooledMessage): Promise<void> {
    await unlink(message.path).catch(() => undefined);
  }

  async close(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
