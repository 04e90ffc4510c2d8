import type { FieldError } from '../../services/folder-plan-edit.ts';
import type { PlanLock } from '../../services/folder-plan-view.ts';
import type { MessageKey } from '../i18n.ts';

type Translate = (key: MessageKey, params?: Record<string, string | number>) => string;

const LOCKS: Record<PlanLock, MessageKey> = {
  noPreflight: 'plan.lock.noPreflight',
  copyBegun: 'plan.lock.copyBegun',
  pastCopy: 'plan.lock.pastCopy',
};

/** Why the folder plan cannot be edited, in the reader's language. */
export function lockText(t: Translate, lock: string): string {
  return t(LOCKS[lock as PlanLock] ?? LOCKS.copyBegun);
}

const PROBLEMS: Record<FieldError['problem'], MessageKey> = {
  empty: 'plan.problem.empty',
  tooLong: 'plan.problem.tooLong',
  control: 'plan.problem.control',
  wildcard: 'plan.problem.wildcard',
  emptyLevel: 'plan.problem.emptyLevel',
  dotLevel: 'plan.problem.dotLevel',
  inboxReserved: 'plan.problem.inboxReserved',
  inboxStays: 'plan.problem.inboxStays',
  collision: 'plan.problem.collision',
  unknownFolder: 'plan.problem.unknownFolder',
  duplicate: 'plan.problem.duplicate',
};

/** One field's problem next to its input. */
export function problemText(t: Translate, error: FieldError, maxChars: number): string {
  return t(PROBLEMS[error.problem], { max: maxChars, other: error.with ?? '' });
}
