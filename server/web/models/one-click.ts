import type { AppContext } from '../../context.ts';
import { CutoverError, formatBytes } from '../../errors.ts';
import type { DomainPlan, PlanWarning } from '../../services/domain-plan.ts';
import { isMessageKey, type MessageKey } from '../i18n.ts';
import { mailPlatformNames } from './project-new.ts';

type Translate = (key: MessageKey, params?: Record<string, string | number>) => string;

export interface OneClickForm {
  source: string; destination: string; domain: string; name: string; startMode: 'auto' | 'manual';
  /** A pasted account list (sources that cannot list accounts), or the sealed one carried from the plan to the confirmation. */
  accounts: string; accountsSealed: string;
}

/** Larger lists go through a project's import. */
const MAX_PASTED = 1024 * 1024;

export function readOneClickForm(body: Record<string, unknown> | undefined): OneClickForm {
  const raw = (key: string, max: number) => (typeof body?.[key] === 'string' ? (body[key] as string) : '').slice(0, max);
  const text = (key: string) => raw(key, 300).trim();
  return {
    source: text('source'), destination: text('destination'), domain: text('domain'), name: text('name'), startMode: body?.startMode === 'manual' ? 'manual' : 'auto',
    accounts: raw('accounts', MAX_PASTED), accountsSealed: raw('accountsSealed', MAX_PASTED * 2),
  };
}

/** The account list of the form in clear: just pasted, or carried sealed (passwords never go back to the page in clear). */
export function pastedAccounts(app: AppContext, form: OneClickForm): string | undefined {
  if (form.accounts.trim()) return form.accounts;
  if (!form.accountsSealed) return undefined;
  try {
    return app.box.open(form.accountsSealed);
  } catch {
    throw new CutoverError('INPUT_INVALID', { detail: 'the account list sent back with the form was altered: paste it again' });
  }
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
  // A list that cannot be opened (altered) is not shown again: the error above the form says so.
  let list: string | undefined;
  try { list = pastedAccounts(app, form); } catch { list = undefined; }
  return {
    title: t('migrate.title'),
    form: { ...form, accounts: '', accountsSealed: list ? app.box.seal(list) : '' },
    accountsGiven: list ? list.split(/\r?\n/).filter((line) => line.includes('@')).length : 0,
    askAccounts: Boolean(list) || Boolean(extra.plan?.needsAccounts),
    manual: form.startMode === 'manual',
    sources: platforms.map((name) => ({ name, selected: name === form.source })),
    destinations: platforms.map((name) => ({ name, selected: name === form.destination })),
    plan: extra.plan ? planView(t, extra.plan) : null,
    error: extra.error,
  };
}
