import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/**
 * Debian's Chromium, headless, with the flags an offline machine needs and a throwaway profile
 * (playwright-core never downloads a browser). English unless a locale is given.
 */
export async function launchChromium(opts: { locale?: string } = {}): Promise<BrowserContext & { cleanup(): Promise<void> }> {
  const profile = mkdtempSync(path.join(os.tmpdir(), 'cutover-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    locale: opts.locale ?? 'en-US',
    viewport: { width: 1280, height: 800 },
  });
  return Object.assign(context, { async cleanup() { await context.close(); rmSync(profile, { recursive: true, force: true }); } });
}
