import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../server/paths.ts';

/**
 * Where the browser tests keep their screenshots after the run (`CUTOVER_SCREENSHOTS` or
 * test-output/screenshots, git-ignored); the README's images are copies of these.
 */
export function screenshotDir(): string {
  const dir = process.env.CUTOVER_SCREENSHOTS ?? path.join(projectRoot, 'test-output', 'screenshots');
  mkdirSync(dir, { recursive: true });
  return dir;
}
