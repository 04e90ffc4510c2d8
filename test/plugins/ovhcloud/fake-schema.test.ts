import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { authRoutes } from '../../support/fake-ovh/routes/auth.ts';
import { hostedRoutes } from '../../support/fake-ovh/routes/hosted.ts';
import { legacyRoutes } from '../../support/fake-ovh/routes/legacy.ts';
import type { Routes } from '../../support/fake-ovh/routes/types.ts';
import { zoneRoutes } from '../../support/fake-ovh/routes/zone.ts';
import { ApiSchema, SCHEMA_FILES } from '../../support/fake-ovh/schema.ts';

const dir = fileURLToPath(new URL('../../support/fake-ovh/schemas/', import.meta.url));

test('the schema files are the ones PROVENANCE.md lists, byte for byte', () => {
  const provenance = readFileSync(`${dir}/PROVENANCE.md`, 'utf8');
  for (const file of SCHEMA_FILES) {
    const sha = createHash('sha256').update(readFileSync(`${dir}/${file}.json`)).digest('hex');
    assert.match(provenance, new RegExp(`\\| ${file}\\.json \\| ${sha} \\|`), file);
  }
});

test('every handler of the fake serves an operation the schema declares (no invented endpoint)', () => {
  const schema = new ApiSchema();
  const declared = new Set(schema.operations.map((op) => `${op.method} ${op.template}`));
  const routes: Routes = new Map();
  authRoutes(routes);
  hostedRoutes(routes);
  legacyRoutes(routes);
  zoneRoutes(routes);
  const invented = [...routes.keys()].filter((k) => !declared.has(k));
  assert.deepEqual(invented, []);
  assert.ok(routes.size >= 60, `${routes.size} handlers`);
});

test('matching prefers literal segments and decodes parameters', () => {
  const schema = new ApiSchema();
  assert.equal(schema.match('GET', '/email/domain/delegatedAccount').op.template, '/email/domain/delegatedAccount');
  const { op, params } = schema.match('GET', '/email/pro/svc/account/john%2Bx@example.com');
  assert.equal(op.template, '/email/pro/{service}/account/{email}');
  assert.deepEqual(params, { service: 'svc', email: 'john+x@example.com' });
  assert.equal(schema.match('GET', '/auth/time').op.noAuth, true);
  assert.equal(schema.match('POST', '/auth/credential').op.noAuth, true);
});

test('shape() fills every model field and refuses invented ones', () => {
  const schema = new ApiSchema();
  const task = schema.shape('email.pro.Task', { id: 1, function: 'setAccount', status: 'todo', todoDate: '2024-01-01T00:00:00Z' }) as Record<string, unknown>;
  assert.deepEqual(Object.keys(task).sort(), ['finishDate', 'function', 'id', 'status', 'todoDate']);
  assert.equal(task.finishDate, null);
  assert.throws(() => schema.shape('email.pro.Task', { id: 1, message: 'invented' }), /has no message/);
});
