import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { cutover, tempDataDir } from './cli.ts';
import { corpusFor } from './corpus.ts';
import { seed } from './mail.ts';
import { startLandscape, type Landscape } from './platforms.ts';

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

/** What a browser test starts: the two mail platforms with the accounts seeded, a data dir, then the panel and Chromium. */
export interface BrowserRun {
  land: Landscape;
  dataDir: string;
  serve?: ReturnType<typeof cutover>;
  browser?: Awaited<ReturnType<typeof launchChromium>>;
}

export async function startBrowserRun(accounts: Array<{ address: string; password: string }>): Promise<BrowserRun> {
  const land = await startLandscape({ accounts, old: { specialUse: false } });
  for (const { address } of accounts) await seed(land.old, address, corpusFor(address).messages);
  return { land, dataDir: tempDataDir() };
}

export async function stopBrowserRun(run: Partial<BrowserRun>): Promise<void> {
  await run.browser?.cleanup();
  run.serve?.child.kill('SIGTERM');
  await run.serve;
  await run.land?.stop();
}
