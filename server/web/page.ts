import type { Request, Response } from 'express';
import { fromAcceptLanguage, LANGUAGES, t, type Language, type MessageKey } from './i18n.ts';
import { render } from './views.ts';

export function languageOf(req: Request): Language {
  return req.session?.lang ?? fromAcceptLanguage(req.get('accept-language'));
}

/** Translation bound to the request's language, for route handlers and view models. */
export function translator(req: Request): (key: MessageKey, params?: Record<string, string | number>) => string {
  const lang = languageOf(req);
  return (key, params) => t(lang, key, params);
}

export function flash(req: Request, kind: 'ok' | 'error', text: string): void {
  req.session.flash = { kind, text };
}

/**
 * Renders a page: the view model plus what every page needs (language, mount path, user, CSRF
 * token, the flash message set by the last redirect). `live` turns on polling and the no-JS refresh.
 */
export function renderPage(req: Request, res: Response, view: string, model: Record<string, unknown> & { title: string; live?: string }, status = 200): void {
  const lang = languageOf(req);
  const message = req.session?.flash;
  if (message) delete req.session.flash;
  res.status(status).type('html').send(render(view, {
    ...model,
    lang,
    timeZone: req.session?.timeZone,
    base: req.baseUrl,
    here: req.originalUrl,
    user: req.session?.userName,
    csrfToken: req.csrfToken?.() ?? '',
    flash: message,
    languages: LANGUAGES.map((code) => ({ code, label: t(code, `lang.${code}`), current: code === lang })),
  }));
}

/** A local path to go back to after a POST; anything else (other hosts, `//x`) falls back to the mount point. */
export function safeBack(req: Request, value: unknown): string {
  const base = req.baseUrl || '';
  return typeof value === 'string' && value.startsWith(`${base}/`) && !value.startsWith('//') && !/[\\\r\n]/.test(value) ? value : `${base}/`;
}
