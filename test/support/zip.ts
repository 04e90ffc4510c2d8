import { constants, crc32, deflateRawSync } from 'node:zlib';

const UTF8_NAMES = 0x800;

/**
 * One entry: its name, and either its bytes (`declaredSize` lies about their size in the headers:
 * a bomb that hides) or a deflated stream already made (with the size and CRC of what it inflates to).
 */
export type ZipEntry = { name: string; data: Buffer; declaredSize?: number } | { name: string; deflated: Buffer; size: number; crc: number };

/**
 * A minimal zip writer (deflate, UTF-8 names, no data descriptors, no zip64) for test files a
 * library would refuse to write: a decompression bomb, hidden or lying entries, `../` paths.
 */
export function writeZip(entries: ZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name, 'utf8');
    const body = 'data' in entry ? deflateRawSync(entry.data) : entry.deflated;
    const size = 'data' in entry ? entry.declaredSize ?? entry.data.length : entry.size;
    const crc = 'data' in entry ? crc32(entry.data) : entry.crc;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0); local.writeUInt16LE(20, 4); local.writeUInt16LE(UTF8_NAMES, 6); local.writeUInt16LE(8, 8);
    local.writeUInt32LE(crc >>> 0, 14); local.writeUInt32LE(body.length, 18); local.writeUInt32LE(size, 22); local.writeUInt16LE(name.length, 26);
    const record = Buffer.alloc(46);
    record.writeUInt32LE(0x02014b50, 0); record.writeUInt16LE(20, 4); record.writeUInt16LE(20, 6); record.writeUInt16LE(UTF8_NAMES, 8); record.writeUInt16LE(8, 10);
    record.writeUInt32LE(crc >>> 0, 16); record.writeUInt32LE(body.length, 20); record.writeUInt32LE(size, 24); record.writeUInt16LE(name.length, 28); record.writeUInt32LE(offset, 42);
    locals.push(local, name, body);
    central.push(record, name);
    offset += local.length + name.length + body.length;
  }
  const directory = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0); end.writeUInt16LE(entries.length, 8); end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12); end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

/**
 * `megabytes` MB of spaces as a raw deflate stream, never held whole: one megabyte is deflated
 * once with a full flush (a self-contained, non-final run of blocks) and repeated, then an empty
 * final block ends it. 4096 MB deflate to about 4 MB. Spaces are valid XML white space, so only
 * a size limit can refuse it.
 */
export function deflatedSpaces(megabytes: number): { deflated: Buffer; size: number; crc: number } {
  const chunk = Buffer.alloc(1024 * 1024, 0x20);
  const run = deflateRawSync(chunk, { finishFlush: constants.Z_FULL_FLUSH, level: 9 });
  let crc = 0;
  for (let i = 0; i < megabytes; i++) crc = crc32(chunk, crc);
  return { deflated: Buffer.concat([...Array<Buffer>(megabytes).fill(run), deflateRawSync(Buffer.alloc(0))]), size: megabytes * chunk.length, crc };
}
