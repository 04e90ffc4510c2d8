import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import express from 'express';
import { authenticate } from './auth.ts';
import { authRoutes } from './routes/auth.ts';
import { hostedRoutes } from './routes/hosted.ts';
import { legacyRoutes } from './routes/legacy.ts';
import type { Ctx, Routes } from './routes/types.ts';
import { zoneRoutes } from './routes/zone.ts';
import { ApiSchema, SchemaError } from './schema.ts';
import { FakeApiError, FakeState, type FakeCredential, type FakeOptions } from './state.ts';

export { FakeState } from './state.ts';
export { DovecotBackend } from './dovecot-backend.ts';

export interface CallRecord { method: string; path: string; template: string | null; status: number }

export interface FakeOvh {
  /** API base, e.g. http://127.0.0.1:40123/1.0: what a platform config's `endpoint` takes. */
  url: string;
  port: number;
  state: FakeState;
  schema: ApiSchema;
  /** Every request received, in order (rejected ones too). */
  calls: CallRecord[];
  stop(): Promise<void>;
}

let sharedSchema: ApiSchema | undefined;

/**
 * A fake OVHcloud API v1 on 127.0.0.1: routes, parameters and answer shapes come from the
 * schema files; every authenticated request must carry a valid signature, a timestamp within
 * the window, a live consumer key and an access rule that grants it.
 */
export async function startFakeOvh(opts: FakeOptions = {}): Promise<FakeOvh> {
  const schema = (sharedSchema ??= new ApiSchema());
  const state = new FakeState(opts);
  const routes: Routes = new Map();
  authRoutes(routes);
  hostedRoutes(routes);
  legacyRoutes(routes);
  zoneRoutes(routes);
  const calls: CallRecord[] = [];

  const app = express();
  app.disable('x-powered-by');
  app.use(express.text({ type: () => true, limit: '1mb' }));
  app.use('/1.0', async (req, res) => {
    const queryId = `FR.ws-${randomBytes(6).toString('hex')}`;
    res.set('X-OVH-Query-Id', queryId);
    const url = new URL(req.originalUrl, `http://${req.headers.host}`);
    const path = url.pathname.replace(/^\/1\.0/, '') || '/';
    const record: CallRecord = { method: req.method, path: path + url.search, template: null, status: 0 };
    calls.push(record);
    const send = (status: number, body: unknown) => {
      record.status = status;
      res.status(status).type('application/json').send(JSON.stringify(body));
    };
    try {
      const { op, params } = schema.match(req.method, path);
      record.template = op.template;
      const raw = typeof req.body === 'string' ? req.body : '';
      let credential: FakeCredential | null = null;
      if (!op.noAuth) {
        credential = authenticate(state, { method: req.method, url: `http://${req.headers.host}${req.originalUrl}`, path, body: raw, header: (n) => req.get(n) });
      }
      await state.tick();
      let body: Record<string, unknown> = {};
      if (raw) {
        try { body = JSON.parse(raw); } catch { throw new FakeApiError(400, { class: 'Client::BadRequest', message: 'Invalid JSON received' }); }
      }
      const query = Object.fromEntries(url.searchParams.entries());
      schema.validate(op, params, query, raw ? body : op.parameters.some((p) => p.paramType === 'body' && p.required) ? null : body);
      const handler = routes.get(`${req.method} ${op.template}`);
      if (!handler) throw new FakeApiError(501, { class: 'Server::NotImplemented', message: `${req.method} ${op.template} exists in the API but not in this fake` });
      const ctx: Ctx = {
        params, query, body, state, credential, header: (n) => req.get(n),
        fit: (value) => {
          const model = schema.models.get(op.responseType);
          return model?.properties ? Object.fromEntries(Object.entries(value).filter(([k]) => k in model.properties!)) : value;
        },
      };
      const result = await handler(ctx);
      send(200, schema.shape(op.responseType, result));
    } catch (err) {
      if (err instanceof FakeApiError || err instanceof SchemaError) send(err.status, err.body);
      else send(500, { class: 'Server::InternalServerError', message: `fake OVH: ${(err as Error).message}` });
    }
  });

  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/1.0`, port, state, schema, calls,
    stop: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
