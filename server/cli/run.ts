import { parseArgs } from 'node:util';
import type { AppContext } from '../context.ts';
import { runWorker } from '../workflow/runner.ts';
import { EXIT, parsePositiveInt, type Io } from './output.ts';

export async function runCommand(app: AppContext, argv: string[], io: Io): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { 'until-idle': { type: 'boolean' }, concurrency: { type: 'string' } } });
  const controller = new AbortController();
  const stop = () => { io.err('stopping after the steps in progress…'); controller.abort(); };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await runWorker(app, { untilIdle: values['until-idle'], concurrency: parsePositiveInt(values.concurrency, '--concurrency'), signal: controller.signal });
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  return EXIT.ok;
}
