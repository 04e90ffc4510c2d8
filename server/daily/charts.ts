// The figures behind the charts: throughput per minute (written by each copy pass into
// progress_samples), mailboxes per state per minute (sampled by the daily tick into state_samples),
// and a mailbox's cumulative progress. Each read is one indexed query over at most a day of minutes.
import type { AppContext } from '../context.ts';
import type { Db } from '../db/knex.ts';
import { durationText } from '../web/times.ts';
import type { Language } from '../web/i18n.ts';
import { t } from '../web/i18n.ts';
import { renderChart, type Series } from './svg-chart.ts';

const MINUTE_MS = 60_000;
/** A chart shows the last day at most: 1,440 points per series. */
const WINDOW_MINUTES = 24 * 60;
const CHART_STATES = ['queued', 'waiting', 'retrying', 'needs_admin', 'paused', 'stopped', 'failed', 'done'];

export async function throughput(db: Db, projectId: number): Promise<Array<{ minute: number; messages: number; bytes: number }>> {
  const last = await db('progress_samples').where({ project_id: projectId }).max({ m: 'minute' }).first();
  if (!last?.m) return [];
  const rows: Array<{ minute: number | string; messages: number | string; bytes: number | string }> = await db('progress_samples')
    .where({ project_id: projectId }).andWhere('minute', '>', Number(last.m) - WINDOW_MINUTES)
    .groupBy('minute').orderBy('minute').select('minute').sum({ messages: 'messages', bytes: 'bytes' });
  return rows.map((r) => ({ minute: Number(r.minute), messages: Number(r.messages), bytes: Number(r.bytes) }));
}

export async function statesOverTime(db: Db, projectId: number): Promise<Array<{ minute: number; state: string; n: number }>> {
  const last = await db('state_samples').where({ project_id: projectId }).max({ m: 'minute' }).first();
  if (!last?.m) return [];
  const rows: Array<{ minute: number | string; state: string; n: number | string }> = await db('state_samples')
    .where({ project_id: projectId }).andWhere('minute', '>', Number(last.m) - WINDOW_MINUTES).orderBy('minute').select('minute', 'state', 'n');
  return rows.map((r) => ({ minute: Number(r.minute), state: r.state, n: Number(r.n) }));
}

export async function mailboxProgress(db: Db, mailboxId: number): Promise<Array<{ minute: number; messages: number; bytes: number }>> {
  const rows: Array<{ minute: number | string; messages: number | string; bytes: number | string }> = await db('progress_samples')
    .where({ mailbox_id: mailboxId }).orderBy('minute', 'desc').limit(WINDOW_MINUTES).select('minute', 'messages', 'bytes');
  let messages = 0;
  let bytes = 0;
  return rows.reverse().map((r) => ({ minute: Number(r.minute), messages: (messages += Number(r.messages)), bytes: (bytes += Number(r.bytes)) }));
}

/** One sample per active project and minute: how many of its mailboxes are in each state (idempotent per minute). */
const sampledMinutes = new WeakMap<AppContext, number>();

export async function sampleStates(app: AppContext, now = Date.now()): Promise<number> {
  const minute = Math.floor(now / MINUTE_MS);
  // The notification timer ticks every 10 s: one count per minute and process is enough.
  if (sampledMinutes.get(app) === minute) return 0;
  sampledMinutes.set(app, minute);
  const rows: Array<{ project_id: number; state: string; n: number | string }> = await app.db('mailboxes')
    .join('projects', 'projects.id', 'mailboxes.project_id').where('projects.state', 'active').whereNull('projects.purged_at')
    .groupBy('mailboxes.project_id', 'mailboxes.state').select('mailboxes.project_id', 'mailboxes.state').count({ n: '*' });
  if (!rows.length) return 0;
  await app.db('state_samples').insert(rows.map((r) => ({ project_id: r.project_id, minute, state: r.state, n: Number(r.n) }))).onConflict(['project_id', 'minute', 'state']).ignore();
  return rows.length;
}

function formatters(lang: Language, timeZone: string) {
  const clock = new Intl.DateTimeFormat(lang, { timeStyle: 'short', timeZone });
  const number = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 });
  const bytes = (v: number) => {
    const units = ['B', 'kB', 'MB', 'GB', 'TB'];
    let value = v;
    let unit = 0;
    while (value >= 1000 && unit < units.length - 1) { value /= 1000; unit++; }
    return `${number.format(value)} ${units[unit]}`;
  };
  return { clock: (x: number) => clock.format(x), number: (v: number) => number.format(v), bytes };
}

/** The project page's charts: messages and bytes per minute, mailboxes per state. */
export async function projectCharts(db: Db, projectId: number, lang: Language, timeZone: string): Promise<string[]> {
  const f = formatters(lang, timeZone);
  const rows = await throughput(db, projectId);
  const span = rows.length ? (rows.at(-1)!.minute - rows[0]!.minute + 1) * MINUTE_MS : 0;
  const peak = rows.reduce((best, r) => (r.messages > best.messages ? r : best), { minute: 0, messages: 0, bytes: 0 });
  const totalMessages = rows.reduce((n, r) => n + r.messages, 0);
  const totalBytes = rows.reduce((n, r) => n + r.bytes, 0);
  const common = { xText: f.clock, xHeader: t(lang, 'chart.minute'), empty: t(lang, 'chart.noCopyYet') };
  const messages = renderChart({
    ...common, id: 'chart-messages', title: t(lang, 'chart.messagesPerMinute'), yText: f.number,
    summary: rows.length ? t(lang, 'chart.messagesSummary', { total: f.number(totalMessages), span: durationText(lang, span), peak: f.number(peak.messages), at: f.clock(peak.minute * MINUTE_MS) }) : '',
    series: [{ label: t(lang, 'chart.messages'), className: 's-messages', points: rows.map((r) => [r.minute * MINUTE_MS, r.messages]) }],
  });
  const bytes = renderChart({
    ...common, id: 'chart-bytes', title: t(lang, 'chart.bytesPerMinute'), yText: f.bytes,
    summary: rows.length ? t(lang, 'chart.bytesSummary', { total: f.bytes(totalBytes), span: durationText(lang, span), average: f.bytes(totalBytes / Math.max(1, rows.length)) }) : '',
    series: [{ label: t(lang, 'chart.bytes'), className: 's-bytes', points: rows.map((r) => [r.minute * MINUTE_MS, r.bytes]) }],
  });
  const states = await statesOverTime(db, projectId);
  const present = CHART_STATES.filter((s) => states.some((r) => r.state === s));
  const minutes = [...new Set(states.map((r) => r.minute))];
  const lastMinute = minutes.at(-1);
  const series: Series[] = present.map((state) => ({
    label: t(lang, `state.${state}`), className: `s-${state}`,
    points: minutes.map((m) => [m * MINUTE_MS, states.find((r) => r.minute === m && r.state === state)?.n ?? 0] as [number, number]),
  }));
  const now = present.map((s) => `${t(lang, `state.${s}`)} ${states.find((r) => r.minute === lastMinute && r.state === s)?.n ?? 0}`).join(', ');
  const stateChart = renderChart({
    id: 'chart-states', title: t(lang, 'chart.states'), xText: f.clock, yText: f.number, xHeader: t(lang, 'chart.minute'), empty: t(lang, 'chart.noSamples'),
    summary: states.length ? t(lang, 'chart.statesSummary', { now, at: f.clock((lastMinute ?? 0) * MINUTE_MS) }) : '', series,
  });
  return [messages, bytes, stateChart];
}

/** The mailbox page's chart: messages copied so far, over time. */
export async function mailboxChart(db: Db, mailboxId: number, lang: Language, timeZone: string): Promise<string> {
  const f = formatters(lang, timeZone);
  const rows = await mailboxProgress(db, mailboxId);
  const last = rows.at(-1);
  return renderChart({
    id: 'chart-mailbox', title: t(lang, 'chart.mailboxProgress'), xText: f.clock, yText: f.number, xHeader: t(lang, 'chart.minute'), empty: t(lang, 'chart.noCopyYet'),
    summary: last ? t(lang, 'chart.mailboxSummary', { messages: f.number(last.messages), bytes: f.bytes(last.bytes), at: f.clock(last.minute * MINUTE_MS) }) : '',
    series: [{ label: t(lang, 'chart.messages'), className: 's-messages', points: rows.map((r) => [r.minute * MINUTE_MS, r.messages]) }],
  });
}
