import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

const EVERY_BYTES = 64 * 1024 * 1024;

/**
 * Message buffers are large and short-lived, and V8 frees their memory only when it collects the
 * small objects that hold them, which a nearly empty JS heap rarely asks for: garbage then, not live
 * data, is what pushes the copy's RSS up. A collection after every 64 MB of content keeps the peak
 * at what is really in flight (README: benchmark figures).
 */
export function memoryReclaimer(): (bytes: number) => void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (() => void) | undefined;
  let since = 0;
  return (bytes) => {
    since += bytes;
    if (since < EVERY_BYTES || !gc) return;
    since = 0;
    gc();
  };
}
