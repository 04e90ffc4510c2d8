import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(import.meta.url);

/** The checkout's root (where package.json is), from the sources or from their compiled copy in dist/. */
export const projectRoot = (() => {
  let dir = path.dirname(here);
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cutover: package.json not found above ' + here);
    dir = parent;
  }
  return dir;
})();

/** `.ts` when running the sources through tsx, `.js` when running the build. */
export const moduleExtension = path.extname(here);
