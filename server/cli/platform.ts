import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { AppContext } from '../context.ts';
import { insertPlatform, listPlatforms, platformByName, removePlatform } from '../db/repos/platforms.ts';
import { CutoverError } from '../errors.ts';
import { EXIT, type Io } from './output.ts';

const NAME = /^[a-z0-9][a-z0-9_.-]{0,62}$/i;

function readConfigFile(file: string): unknown {
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch (err) {
    throw new CutoverError('INPUT_INVALID', { detail: `cannot read ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}` });
  }
  try { return JSON.parse(text); } catch (err) {
    throw new CutoverError('CONFIG_INVALID', { where: ` in ${file}`, detail: `not valid JSON (${(err as Error).message})` });
  }
}

export async function platformCommand(app: AppContext, argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { plugin: { type: 'string' }, config: { type: 'string' }, 'no-test': { type: 'boolean' }, json: { type: 'boolean' } } });
  switch (sub) {
    case 'add': {
      const name = positionals[0];
      if (!name || !NAME.test(name)) throw new CutoverError('INPUT_INVALID', { detail: 'usage: cutover platform add NAME --plugin ID --config FILE (NAME: letters, digits, . _ -)' });
      if (!values.plugin || !values.config) throw new CutoverError('INPUT_INVALID', { detail: 'platform add needs --plugin ID and --config FILE' });
      const plugin = app.plugins.get(values.plugin);
      const config = app.plugins.parseConfig(plugin.id, readConfigFile(values.config));
      if (!values['no-test'] && plugin.platform) {
        // Test before storing: a platform that cannot be reached is not added half-working.
        const connector = plugin.platform(config, { log: app.log });
        try { await connector.testConnection(); } finally { await connector.close(); }
      }
      await insertPlatform(app.db, app.box, name, plugin.id, config);
      io.out(`platform ${name} added (${plugin.id})`);
      return EXIT.ok;
    }
    case 'list': {
      const rows = await listPlatforms(app.db);
      if (values.json) io.out(JSON.stringify(rows.map((r) => ({ name: r.name, plugin: r.plugin, created: r.created_at }))));
      else for (const r of rows) io.out(`${r.name}\t${r.plugin}\t${r.created_at}`);
      return EXIT.ok;
    }
    case 'test': {
      const row = await platformByName(app.db, positionals[0] ?? '');
      const connector = await app.connector(row.id);
      await connector.testConnection();
      io.out(`platform ${row.name}: reachable; capabilities: ${Object.entries(connector.capabilities).filter(([, v]) => v).map(([k, v]) => (v === true ? k : `${k}=${v}`)).join(', ')}`);
      return EXIT.ok;
    }
    case 'remove': {
      await removePlatform(app.db, positionals[0] ?? '');
      io.out(`platform ${positionals[0]} removed`);
      return EXIT.ok;
    }
    default:
      throw new CutoverError('INPUT_INVALID', { detail: 'usage: cutover platform add|list|test|remove …' });
  }
}
