import type { Step } from '../types.ts';
import { preflight } from './preflight.ts';
import { attachDomain } from './attach-domain.ts';
import { renameSource } from './rename-source.ts';
import { createDestination } from './create-destination.ts';
import { copyMail } from './copy-mail.ts';
import { copyGroupware } from './copy-groupware.ts';
import { verify } from './verify.ts';
import { dnsCutover } from './dns-cutover.ts';
import { deltaSync } from './delta-sync.ts';
import { finalize } from './finalize.ts';

/** THE order of the workflow. Nothing else decides which step follows which. */
export const steps: readonly Step[] = [preflight, attachDomain, renameSource, createDestination, copyMail, copyGroupware, verify, dnsCutover, deltaSync, finalize];

export function stepById(id: string): Step {
  const step = steps.find((s) => s.id === id);
  if (!step) throw new Error(`unknown step ${id}`);
  return step;
}

export function nextStep(id: string): Step | undefined {
  return steps[steps.indexOf(stepById(id)) + 1];
}
