import type { AppContext } from '../../context.ts';
import { formatBytes } from '../../errors.ts';
import type { DomainPlan, PlanWarning } from '../../services/domain-plan.ts';
import { isMessageKey, type MessageKey } from '../i18n.ts';
import { mailPlatformNames } from './project-new.ts';

type Translate = (key: MessageKey, params?: Record<string, string | number>) => string;

export interface OneClickForm { source: string; destination: string; domain: string; name: string; startMode: 'auto' | 'manual' }

export function readOneClickForm(body: Record<string, unknown> | undefined): OneClickForm {
  const text = (key: string) => (typeof body?.[key] === 'string' ? (body[key] as string) : '').trim().slice(0, 300);
  return { source: text('source'), destination: text('destination'), domain: text('domain'), name: text('name'), startMode: body?.startMode === 'manual' ? 'manual' : 'auto' };
}

const BYTE_PARAMS = ['bytes', 'limit'];

/** A plan warning in the admin's words, sizes written as sizes. */
export function warningText(t: Translate, warning: PlanWarning): string {
  const params = Object.fromEntries(Object.entries(warning.params).map(([k, v]) => [k, BYTE_PARAMS.includes(k) && typeof v === 'number' ? formatBytes(v) : v]));
  const key = `migrate.warning.${warning.code}`;
  return isMessageKey(key) ? t(key, params) : warning.code;
}

function planView(t: Translate, plan: DomainPlan) {
  return {
    ...plan,
    total: formatBytes(plan.totalBytes),
    activeCount: plan.accounts.filter((a) => a.active).length,
    limit: plan.destLimitBytes === null ? null : formatBytes(plan.destLimitBytes),
    accounts: plan.accounts.map((a) => ({ ...a, size: a.bytes === null ? null : formatBytes(a.bytes), sizeFrom: a.bytesFrom ? t(`migrate.sizeFrom.${a.bytesFrom}`) : null })),
    warnings: plan.warnings.map((w) => ({ code: w.code, text: warningText(t, w) })),
  };
}

/** The one-click page: the choice of platforms and domain, then (after "Plan") what would happen, to confirm. */
export async function oneClickModel(app: AppContext, t: Translate, form: OneClickForm, extra: { plan?: DomainPlan; error?: string } = {}) {
  const platforms = await mailPlatformNames(app);
  return {
    title: t('migrate.title'),
    form,
    manual: form.startMode === 'manual',
    sources: platforms.map((name) => ({ name, selected: name === form.source })),
    destinations: platforms.map((name) => ({ name, selected: name === form.destination })),
    plan: extra.plan ? planView(t, extra.plan) : null,
    error: extra.error,
  };
}
