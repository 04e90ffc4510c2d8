import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { dateHeader, MAX_FILE_MESSAGE_BYTES, startsWithHeader, type FileItem, type FileSource } from './items.ts';

/** One .eml file is one message; it goes to the inbox. */
export function emlItem(id: string, folder: string[], content: Buffer, arrived?: Date): FileItem {
  if (!content.length) return { kind: 'skip', id, folder, size: 0, reason: 'empty file' };
  if (!startsWithHeader(content)) return { kind: 'skip', id, folder, size: content.length, reason: 'no header fields: this is not an RFC 5322 message' };
  return { kind: 'message', id, folder, content, flags: ['\\Seen'], internalDate: dateHeader(content) ?? arrived };
}

async function oneEml(file: string, id: string, folder: string[]): Promise<FileItem> {
  const info = await stat(file);
  if (info.size > MAX_FILE_MESSAGE_BYTES) return { kind: 'skip', id, folder, size: info.size, reason: `${info.size} bytes is over the ${MAX_FILE_MESSAGE_BYTES}-byte limit for one message` };
  return emlItem(id, folder, await readFile(file), info.mtime);
}

export function openEml(file: string): FileSource {
  return {
    path: file,
    format: 'eml',
    folders: async () => [[]],
    async *items() { yield await oneEml(file, path.basename(file), []); },
    close: async () => undefined,
  };
}

/** Every file under the directory, depth first in name order, symbolic links not followed. */
async function* walk(root: string, relative: string[] = []): AsyncGenerator<{ file: string; relative: string[]; isDir: boolean }> {
  const entries = (await readdir(path.join(root, ...relative), { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    if (entry.isDirectory()) {
      yield { file: path.join(root, ...relative, entry.name), relative: [...relative, entry.name], isDir: true };
      yield* walk(root, [...relative, entry.name]);
    } else if (entry.isFile()) {
      yield { file: path.join(root, ...relative, entry.name), relative: [...relative, entry.name], isDir: false };
    }
  }
}

/** A directory tree of .eml files: each sub-directory is a folder, the top level the inbox. */
export function openEmlDirectory(root: string): FileSource {
  return {
    path: root,
    format: 'eml-directory',
    async folders() {
      const folders: string[][] = [[]];
      for await (const entry of walk(root)) if (entry.isDir) folders.push(entry.relative);
      return folders;
    },
    async *items() {
      for await (const entry of walk(root)) {
        if (entry.isDir) continue;
        const id = entry.relative.join('/');
        const folder = entry.relative.slice(0, -1);
        if (!/\.eml$/i.test(entry.file)) {
          yield { kind: 'skip', id, folder, reason: 'not an .eml file' };
          continue;
        }
        yield await oneEml(entry.file, id, folder);
      }
    },
    close: async () => undefined,
  };
}
