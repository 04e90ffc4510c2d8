import type { NextFunction, Request, Response } from 'express';

/** Every page but login needs a session: pages redirect to the login page, the API answers 401. */
export function requireUser(req: Request, res: Response, next: NextFunction): void {
  if (req.session?.userId) return next();
  if (req.path.startsWith('/api/')) { res.status(401).json({ error: { code: 'AUTH_REQUIRED', message: 'log in first' } }); return; }
  res.redirect(303, `${req.baseUrl}/login?next=${encodeURIComponent(req.originalUrl)}`);
}

export function wantsJson(req: Request): boolean {
  return req.path.startsWith('/api/');
}
