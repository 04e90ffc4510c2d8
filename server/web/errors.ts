import type { NextFunction, Request, Response } from 'express';
import { CutoverError, type ErrorCode } from '../errors.ts';
import { isCsrfError } from './csrf.ts';
import { wantsJson } from './guard.ts';
import { isMessageKey } from './i18n.ts';
import { renderPage, translator } from './page.ts';

// Typed errors keep their code and words on every page and in the API; only INTERNAL (and anything untyped) is a bare 500.
const statusOf: Partial<Record<ErrorCode, number>> = {
  MAILBOX_UNKNOWN: 404, PROJECT_UNKNOWN: 404, PLATFORM_UNKNOWN: 404, PLUGIN_UNKNOWN: 404, SYNC_POINT_UNKNOWN: 404,
  INPUT_INVALID: 400, CONFIG_INVALID: 400, FOLDER_UNKNOWN: 400, FOLDER_PLAN_INVALID: 400, DOMAIN_UNKNOWN: 400, DOMAIN_NO_ACCOUNTS: 400,
  CONFIRMATION_REQUIRED: 400, DNS_PROVIDER_UNSUITABLE: 400, ROLLBACK_UNSUPPORTED: 409,
  UPLOAD_UNKNOWN: 404, UPLOAD_TOO_LARGE: 413, UPLOAD_OFFSET: 409, UPLOAD_STATE: 409, FILE_UNREADABLE: 422,
  ACTION_NOT_ALLOWED: 409, PLATFORM_EXISTS: 409, PLATFORM_IN_USE: 409, PROJECT_EXISTS: 409, PROJECT_BUSY: 409, MAILBOX_BUSY: 409, FOLDER_PLAN_LOCKED: 409,
};
const UPSTREAM_FAILURE = 502;

/** A CutoverError in the reader's language when the table has it, in the service's words otherwise. */
export function errorText(req: Request, err: CutoverError): string {
  const key = `errors.${err.code}`;
  return isMessageKey(key) ? translator(req)(key, err.params) : err.message;
}

export function notFound(req: Request, res: Response): void {
  const t = translator(req);
  if (wantsJson(req)) { res.status(404).json({ error: { code: 'NOT_FOUND', message: 'not found' } }); return; }
  renderPage(req, res, 'message', { title: t('notFound.title'), text: t('notFound.text') }, 404);
}

/** The panel's last word on an error: typed errors keep their code, anything else is logged and shown as a 500 without detail. */
export function errorHandler(log: { error(obj: unknown, msg: string): void }) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const t = translator(req);
    if (isCsrfError(err)) {
      if (wantsJson(req)) { res.status(403).json({ error: { code: 'CSRF_INVALID', message: t('csrf.invalid') } }); return; }
      renderPage(req, res, 'message', { title: t('error.title'), text: t('csrf.invalid') }, 403);
      return;
    }
    // A typed error not in the table comes from a server the panel talked to (IMAP, DNS, a platform API).
    if (err instanceof CutoverError && err.code !== 'INTERNAL') {
      const status = statusOf[err.code] ?? UPSTREAM_FAILURE;
      if (wantsJson(req)) { res.status(status).json({ error: { code: err.code, message: errorText(req, err), ...err.details } }); return; }
      renderPage(req, res, 'message', { title: t('error.title'), text: errorText(req, err) }, status);
      return;
    }
    log.error({ err }, 'panel request failed');
    if (wantsJson(req)) { res.status(500).json({ error: { code: 'INTERNAL', message: 'internal error' } }); return; }
    renderPage(req, res, 'message', { title: t('error.title'), text: t('error.title') }, 500);
  };
}
