import { parseArgs } from 'node:util';
import type { AppContext } from '../context.ts';
import { durationSeconds } from '../duration.ts';
import { CutoverError } from '../errors.ts';
import { leftBehind } from '../workflow/idle.ts';
import { runWorker } from '../workflow/runner.ts';
import { EXIT, parsePositiveInt, type Io } from './output.ts';

export async function runCommand(app: AppContext, argv: string[], io: Io): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { 'until-idle': { type: 'boolean' }, concurrency: { type: 'string' }, 'max-wait': { type: 'string' } } });
  const maxWait = values['max-wait'] === undefined ? undefined : durationSeconds(values['max-wait']);
  if (maxWait === null) throw new CutoverError('INPUT_INVALID', { detail: `--max-wait: "${values['max-wait']}" is not a duration (90s, 5m, 1h)` });
  const controller = new AbortController();
  const stop = () => { io.err('stopping after the steps in progress…'); controller.abort(); };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await runWorker(app, {
      untilIdle: values['until-idle'], concurrency: parsePositiveInt(values.concurrency, '--concurrency'), signal: controller.signal,
      ...(maxWait !== undefined && { maxWaitMs: maxWait * 1_000 }),
    });
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  if (values['until-idle']) for (const line of await leftBehindLines(app)) io.err(line);
  return EXIT.ok;
}

// Said on stderr so that scripts reading stdout are not disturbed; empty when everything is done.
async function leftBehindLines(app: AppContext): Promise<string[]> {
  const rows = await leftBehind(app.db);
  if (rows.length === 0) return [];
  const parts = rows.map((r) => `${r.count} ${r.state}${r.nextRunAt && ['waiting', 'retrying', 'queued'].includes(r.state) ? ` (next at ${new Date(r.nextRunAt).toISOString()})` : ''}`);
  return [`idle; left behind: ${parts.join(', ')}`];
}
