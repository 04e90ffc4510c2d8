import type { AppContext } from '../../context.ts';
import { projectById, projectOptions } from '../../db/repos/projects.ts';
import { projectCharts } from '../../daily/charts.ts';
import { letterCounts, LETTER_KINDS } from '../../daily/letters.ts';
import { retentionStatus } from '../../daily/retention.ts';
import { isoToZoned, scheduleView, type ScheduleView } from '../../daily/schedule.ts';
import type { Language } from '../i18n.ts';
import { formatBytes } from '../../errors.ts';

export interface ProjectDailyModel {
  schedule: ScheduleView & { rateText: string | null; hostRateText: string | null; form: { hostCap: string; startAt: string; timeZone: string; from: string; to: string; windowZone: string; cap: string; retentionDays: number } };
  charts: string[];
  letters: Array<{ kind: string; enabled: boolean; sent: number; pending: number; failed: number }>;
  smtp: boolean;
  retention: Awaited<ReturnType<typeof retentionStatus>>;
}

/** The project page's daily-use block: schedule and its form, charts, letters sent, retention. */
export async function projectDailyModel(app: AppContext, projectId: number, lang: Language, adminZone: string | undefined, now = Date.now()): Promise<ProjectDailyModel> {
  const project = await projectById(app.db, projectId);
  const options = projectOptions(project);
  const schedule = scheduleView(options, now);
  const counts = await letterCounts(app.db, project.id);
  const source = await app.db('platforms').where({ id: project.source_platform_id }).first('max_bytes_per_second');
  const hostCap = Number(source?.max_bytes_per_second ?? 0);
  return {
    schedule: {
      ...schedule,
      rateText: options.maxBytesPerSecond ? formatBytes(options.maxBytesPerSecond) : null,
      hostRateText: hostCap ? formatBytes(hostCap) : null,
      form: {
        hostCap: hostCap ? String(hostCap) : '',
        startAt: options.startAt ? isoToZoned(options.startAt, options.timeZone) : '', timeZone: options.timeZone,
        from: options.copyWindow?.from ?? '', to: options.copyWindow?.to ?? '', windowZone: options.copyWindow?.timeZone ?? options.timeZone,
        cap: options.maxBytesPerSecond ? String(options.maxBytesPerSecond) : '', retentionDays: options.retentionDays,
      },
    },
    charts: await projectCharts(app.db, project.id, lang, adminZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone),
    letters: LETTER_KINDS.map((kind) => ({ ...counts.find((c) => c.kind === kind)!, kind, enabled: options.letters[kind] })),
    smtp: Boolean(app.config.smtp),
    retention: await retentionStatus(app.db, project),
  };
}
