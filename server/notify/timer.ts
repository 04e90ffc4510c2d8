import type { AppContext } from '../context.ts';
import { notifyTick } from './notifier.ts';

export const NOTIFY_INTERVAL_MS = 10_000;
// Stopping runs one last pass (a `migrate --wait` ends right after the project completes),
// but never holds the process longer than this if the mail server does not answer.
const LAST_PASS_MS = 20_000;

export interface Notifier { stop(): Promise<void> }

/**
 * Notifications beside the worker loop, never inside it: a pass runs on its own timer, a slow or
 * dead mail server delays only the next pass, and an error is logged, never thrown into the worker.
 */
export function startNotifier(app: AppContext, intervalMs = NOTIFY_INTERVAL_MS): Notifier {
  let running: Promise<void> | undefined;
  const pass = (): Promise<void> => {
    running ??= notifyTick(app).then(() => undefined, (err) => app.log.warn({ err }, 'notification pass failed')).finally(() => { running = undefined; });
    return running;
  };
  const timer = setInterval(() => { void pass(); }, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
      let timeout: NodeJS.Timeout | undefined;
      await Promise.race([pass(), new Promise<void>((resolve) => { timeout = setTimeout(resolve, LAST_PASS_MS); timeout.unref(); })]);
      clearTimeout(timeout);
    },
  };
}
