import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { z } from 'zod';
import { CutoverError } from '../../server/errors.ts';
import type { PluginModule } from '../../server/plugins/contract.ts';
import { loadPlugins, PluginRegistry } from '../../server/plugins/registry.ts';

const dirs: string[] = [];
after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

function fake(id: string): PluginModule {
  return { id, description: `fake ${id}`, configSchema: z.object({ host: z.string().min(1), port: z.number().int().positive(), tls: z.boolean().default(true) }).strict() };
}

const code = (c: string) => (err: unknown) => err instanceof CutoverError && err.code === c;

test('register: a duplicate id is rejected, the first registration stays', () => {
  const registry = new PluginRegistry();
  const first = fake('alpha');
  registry.register(first);
  assert.throws(() => registry.register(fake('alpha')), (err: unknown) => code('CONFIG_INVALID')(err) && /duplicate plugin id "alpha"/.test((err as Error).message));
  assert.equal(registry.get('alpha'), first);
  assert.deepEqual(registry.ids(), ['alpha']);
});

test('register: a module without id or configSchema is rejected', () => {
  const registry = new PluginRegistry();
  assert.throws(() => registry.register({ ...fake('x'), id: '' }), code('CONFIG_INVALID'));
  assert.throws(() => registry.register({ id: 'y', description: '' } as unknown as PluginModule), code('CONFIG_INVALID'));
  assert.throws(() => registry.register(undefined as unknown as PluginModule), code('CONFIG_INVALID'));
  assert.deepEqual(registry.ids(), []);
});

test('get: an unknown plugin is PLUGIN_UNKNOWN and lists the available ids, sorted', () => {
  const registry = new PluginRegistry();
  registry.register(fake('zeta'));
  registry.register(fake('alpha'));
  assert.deepEqual(registry.ids(), ['alpha', 'zeta']);
  assert.throws(() => registry.get('ovh'), (err: unknown) => {
    assert.ok(code('PLUGIN_UNKNOWN')(err));
    assert.match((err as Error).message, /"ovh"/);
    assert.match((err as Error).message, /Available: alpha, zeta\./);
    return true;
  });
});

test('parseConfig returns the parsed config with defaults, and names every bad field', () => {
  const registry = new PluginRegistry();
  registry.register(fake('alpha'));
  assert.deepEqual(registry.parseConfig('alpha', { host: 'h', port: 1 }), { host: 'h', port: 1, tls: true });
  assert.throws(() => registry.parseConfig('alpha', { host: '', port: 'x', extra: 1 }), (err: unknown) => {
    assert.ok(code('CONFIG_INVALID')(err));
    const message = (err as Error).message;
    assert.match(message, /for plugin alpha/);
    assert.match(message, /host:/);
    assert.match(message, /port:/);
    assert.match(message, /extra/);
    return true;
  });
  assert.throws(() => registry.parseConfig('alpha', 'not an object'), (err: unknown) => code('CONFIG_INVALID')(err) && /\(root\)/.test((err as Error).message));
  assert.throws(() => registry.parseConfig('nope', {}), code('PLUGIN_UNKNOWN'));
});

test('loadPlugins finds the bundled postfixadmin plugin and its config schema works', async () => {
  const registry = await loadPlugins();
  assert.ok(registry.ids().includes('postfixadmin'), registry.ids().join(', '));
  const plugin = registry.get('postfixadmin');
  assert.equal(typeof plugin.platform, 'function');
  assert.throws(() => registry.parseConfig('postfixadmin', { database: { client: 'sqlite3', filename: '/x' } }), (err: unknown) =>
    code('CONFIG_INVALID')(err) && /imap/.test((err as Error).message) && /mailHost/.test((err as Error).message));
});

function pluginDir(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cutover-plugins-'));
  dirs.push(dir);
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}

// Plugins written without imports, so they load from a temporary directory; configSchema only needs safeParse.
const moduleText = (id: string) => `export default { id: ${JSON.stringify(id)}, description: 'test', configSchema: { safeParse: (v) => ({ success: true, data: v }) } };\n`;

test('loadPlugins loads every plugins/*/index.ts, skips folders without one, ignores loose files', async () => {
  const dir = pluginDir({ 'one/index.ts': moduleText('one'), 'two/index.ts': moduleText('two'), 'empty/README.md': 'x', 'loose.ts': moduleText('loose') });
  assert.deepEqual((await loadPlugins(dir)).ids(), ['one', 'two']);
});

test('loadPlugins rejects two folders declaring the same id, and a module without a default export', async () => {
  await assert.rejects(loadPlugins(pluginDir({ 'a/index.ts': moduleText('same'), 'b/index.ts': moduleText('same') })), (err: unknown) =>
    code('CONFIG_INVALID')(err) && /duplicate plugin id "same"/.test((err as Error).message));
  await assert.rejects(loadPlugins(pluginDir({ 'bad/index.ts': 'export const id = "bad";\n' })), (err: unknown) =>
    code('CONFIG_INVALID')(err) && /plugins\/bad/.test((err as Error).message));
});
