import type { Request } from 'express';
import { z } from 'zod';
import { CutoverError } from '../../errors.ts';
import { ConfigInvalidError, type IssueLocale } from '../../services/plugin-config.ts';
import { errorText } from '../errors.ts';
import { isMessageKey } from '../i18n.ts';
import { languageOf, translator } from '../page.ts';

// The panel's error handler knows the mailbox and project codes; these are the platforms pages'.
const statusOf: Partial<Record<string, number>> = {
  PLATFORM_UNKNOWN: 404, PLUGIN_UNKNOWN: 404, PLATFORM_EXISTS: 409, PLATFORM_IN_USE: 409, CONFIG_INVALID: 400, INPUT_INVALID: 400, INTERNAL: 500,
};

/** A refusal of the admin's request by the platform itself (unreachable, wrong password…) is 422. */
export function platformErrorStatus(err: CutoverError): number {
  return statusOf[err.code] ?? 422;
}

/** A CutoverError in the reader's language: this area's table first, then the panel's, then the service's words. */
export function platformErrorText(req: Request, err: CutoverError): string {
  const key = `platforms.error.${err.code}`;
  return isMessageKey(key) ? translator(req)(key, err.params) : errorText(req, err);
}

export function errorJson(req: Request, err: CutoverError): { error: { code: string; message: string; fields?: Array<{ path: string; message: string }> } } {
  return { error: { code: err.code, message: platformErrorText(req, err), ...(err instanceof ConfigInvalidError && { fields: err.issues }) } };
}

/** zod's own messages in the reader's language (the plugins' custom messages stay as written). */
export function issueLocale(req: Request): IssueLocale | undefined {
  return languageOf(req) === 'fr' ? z.locales.fr().localeError : undefined;
}
