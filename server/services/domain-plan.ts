import type { AppContext } from '../context.ts';
import { platformByName } from '../db/repos/platforms.ts';
import { CutoverError } from '../errors.ts';
import { domainName } from '../net.ts';
import { steps } from '../workflow/steps/index.ts';
import { checkMailboxRows, type NumberedRow } from './mailbox-rows.ts';
import { needsSourcePassword } from '../plugins/contract.ts';

/** Above this share of the destination's limit a mailbox is "near" it: the copy fits today, not for long. */
const NEAR_LIMIT = 0.9;

export type PlanWarningCode = 'too_big' | 'near_limit' | 'slots_missing' | 'inactive' | 'passwords_needed' | 'no_accounts' | 'accounts_needed' | 'row_problem';
export interface PlanWarning { code: PlanWarningCode; params: Record<string, string | number> }

export interface PlannedAccount {
  address: string;
  active: boolean;
  /** What the source reports as used, else its quota; null when it says neither. */
  bytes: number | null;
  bytesFrom: 'used' | 'quota' | null;
  fit: 'ok' | 'near' | 'over' | 'unknown';
}

export interface DomainPlan {
  source: string;
  destination: string;
  domain: string;
  accounts: PlannedAccount[];
  totalBytes: number;
  destLimitBytes: number | null;
  steps: Array<{ id: string; title: string; level: 'mailbox' | 'domain' }>;
  warnings: PlanWarning[];
  /** False when confirming would be refused (no account, or passwords needed that the one-click page cannot take). */
  canConfirm: boolean;
  /** The source cannot list accounts: the page asks for the list (pasted addresses or CSV). */
  needsAccounts: boolean;
}

/**
 * What a one-click migration of a domain would do, before anything is written: the accounts the
 * source has (with their size where it says), the workflow's steps, and what will get in the way
 * (a destination limit such as MX Plan's 5 GB, missing account slots, inactive accounts, a source
 * without a master user). Both platforms are asked, so an unreachable one is said here.
 */
export async function planDomainMigration(app: AppContext, input: { from: string; to: string; domain: string; accounts?: NumberedRow[] }): Promise<DomainPlan> {
  const checked = domainName.safeParse(input.domain);
  if (!checked.success) throw new CutoverError('INPUT_INVALID', { detail: `"${input.domain}" is not a valid domain name` });
  const domain = checked.data;
  const sourceRow = await platformByName(app.db, input.from);
  const destRow = await platformByName(app.db, input.to);
  if (sourceRow.id === destRow.id) throw new CutoverError('INPUT_INVALID', { detail: 'source and destination are the same platform' });
  const source = await app.connector(sourceRow.id);
  const dest = await app.connector(destRow.id);
  await source.testConnection();
  await dest.testConnection();
  if (!(await source.domainExists(domain))) throw new CutoverError('DOMAIN_UNKNOWN', { domain, platform: input.from });

  const limit = dest.capabilities.maxMailboxBytes ?? null;
  const needsAccounts = !source.capabilities.listAccounts;
  if (input.accounts || needsAccounts) return planFromList(app, { ...input, domain, source: sourceRow.id, dest: destRow.id, needsAccounts, limit });
  const accounts: PlannedAccount[] = (await source.listAccounts(domain)).map((a) => {
    const used = a.usedBytes ?? null;
    const bytes = used ?? a.quotaBytes ?? null;
    const fit = bytes === null || limit === null ? 'unknown' : bytes > limit ? 'over' : bytes > limit * NEAR_LIMIT ? 'near' : 'ok';
    return { address: a.address, active: a.active, bytes, bytesFrom: used !== null ? 'used' : a.quotaBytes != null ? 'quota' : null, fit };
  });
  const active = accounts.filter((a) => a.active);

  const warnings: PlanWarning[] = [];
  if (active.length === 0) warnings.push({ code: 'no_accounts', params: { domain, platform: input.from } });
  for (const a of active) {
    if (a.fit === 'over') warnings.push({ code: 'too_big', params: { address: a.address, bytes: a.bytes!, limit: limit! } });
    else if (a.fit === 'near') warnings.push({ code: 'near_limit', params: { address: a.address, bytes: a.bytes!, limit: limit! } });
  }
  const free = dest.freeAccountSlots ? await dest.freeAccountSlots(domain) : null;
  if (free !== null && free < active.length) warnings.push({ code: 'slots_missing', params: { platform: input.to, free, needed: active.length, missing: active.length - free } });
  const inactive = accounts.filter((a) => !a.active);
  if (inactive.length) warnings.push({ code: 'inactive', params: { count: inactive.length, addresses: inactive.map((a) => a.address).join(', ') } });
  if (needsSourcePassword(source.capabilities)) warnings.push({ code: 'passwords_needed', params: { platform: input.from } });

  return {
    source: sourceRow.name, destination: destRow.name, domain, accounts,
    totalBytes: active.reduce((n, a) => n + (a.bytes ?? 0), 0), destLimitBytes: limit,
    steps: steps.map((s) => ({ id: s.id, title: s.title, level: s.level })),
    warnings,
    canConfirm: active.length > 0 && !needsSourcePassword(source.capabilities),
    needsAccounts,
  };
}

/**
 * The plan from an account list (a source that cannot list accounts, or a list given anyway):
 * every row goes through the import's dry run, its logins included, and each problem is a warning
 * that keeps the plan from being confirmed.
 */
async function planFromList(app: AppContext, input: { from: string; to: string; domain: string; accounts?: NumberedRow[]; source: number; dest: number; needsAccounts: boolean; limit: number | null }): Promise<DomainPlan> {
  const base = {
    source: input.from, destination: input.to, domain: input.domain, totalBytes: 0, destLimitBytes: input.limit,
    steps: steps.map((s) => ({ id: s.id, title: s.title, level: s.level })), needsAccounts: input.needsAccounts,
  };
  if (!input.accounts?.length) return { ...base, accounts: [], warnings: [{ code: 'accounts_needed', params: { platform: input.from, domain: input.domain } }], canConfirm: false };
  const draft = { id: -1, name: '', source_platform_id: input.source, dest_platform_id: input.dest, options: '{}', state: 'active', created_at: '' };
  const checked = await checkMailboxRows(app, draft, input.accounts);
  const warnings: PlanWarning[] = [];
  for (const row of checked) {
    if (row.address && !row.address.endsWith(`@${input.domain}`)) warnings.push({ code: 'row_problem', params: { line: row.line, address: row.address, problem: `not in ${input.domain}` } });
    for (const problem of row.errors) warnings.push({ code: 'row_problem', params: { line: row.line, address: row.address, problem: problem.code } });
  }
  return {
    ...base, warnings, canConfirm: warnings.length === 0,
    accounts: checked.map((row) => ({ address: row.address, active: true, bytes: null, bytesFrom: null, fit: 'unknown' as const })),
  };
}
