import type { Server } from 'node:http';
import { parseArgs } from 'node:util';
import express from 'express';
import type { AppContext } from './context.ts';
import { createPanel } from './panel.ts';
import { countUsers } from './db/repos/users.ts';
import { runWorker } from './workflow/runner.ts';
import { startDnsRecheck } from './dns/recheck.ts';
import { startRetentionJob } from './daily/retention.ts';
import { EXIT, parsePositiveInt, type Io } from './cli/output.ts';

export async function startWeb(app: AppContext, port: number, host = '127.0.0.1'): Promise<Server> {
  const web = express();
  web.disable('x-powered-by');
  web.use('/', createPanel(app));
  return new Promise((resolve, reject) => {
    const server = web.listen(port, host, () => resolve(server));
    server.once('error', reject);
  });
}

/** Standalone mode: the panel and a worker in one process, until SIGINT/SIGTERM. */
export async function serveForever(app: AppContext, port: number, io: Io, onStop?: () => Promise<void>, opts: { worker: boolean } = { worker: true }): Promise<number> {
  const server = await startWeb(app, port);
  io.out(`panel: http://127.0.0.1:${port}/`);
  if ((await countUsers(app.db)) === 0) io.out(`no admin account yet: open http://127.0.0.1:${port}/setup in a browser on this machine, or run  npx cutover admin create NAME  (the password is read from stdin)`);
  // The Domains page's re-check job runs beside the panel (CUTOVER_DNS_RECHECK: a cron schedule, or "off").
  const schedule = process.env.CUTOVER_DNS_RECHECK;
  const recheck = schedule === 'off' ? null : startDnsRecheck(app, schedule || undefined);
  // Data retention: projects past their retention period lose their migration data (CUTOVER_RETENTION_PURGE, or "off").
  const purgeSchedule = process.env.CUTOVER_RETENTION_PURGE;
  const retention = purgeSchedule === 'off' ? null : startRetentionJob(app, purgeSchedule || undefined);
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  if (opts.worker) await runWorker(app, { signal: controller.signal });
  else await new Promise((resolve) => controller.signal.addEventListener('abort', resolve, { once: true }));
  await recheck?.stop();
  await retention?.stop();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await onStop?.();
  return EXIT.ok;
}

export async function serveCommand(app: AppContext, argv: string[], io: Io): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { port: { type: 'string' }, 'no-worker': { type: 'boolean' } } });
  // --no-worker: the panel only, while `cutover run` works on other hosts sharing the database.
  return serveForever(app, parsePositiveInt(values.port, '--port') ?? 8080, io, undefined, { worker: !values['no-worker'] });
}
