import type { AppContext } from '../context.ts';
import { sampleStates } from './charts.ts';
import { letterTick } from './letters.ts';

/** Beside each notification pass (every 10 s on every worker): the state chart's sample of the minute, and the letters due. */
export async function dailyTick(app: AppContext, now = Date.now()): Promise<void> {
  await sampleStates(app, now).catch((err) => app.log.warn({ err }, 'state sample failed'));
  await letterTick(app, now).catch((err) => app.log.warn({ err }, 'letter pass failed'));
}
