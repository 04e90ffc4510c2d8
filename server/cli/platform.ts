import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { AppContext } from '../context.ts';
import { listPlatforms, platformByName } from '../db/repos/platforms.ts';
import { CutoverError } from '../errors.ts';
import { testPlatform } from '../services/platform-test.ts';
import { addPlatform, PLATFORM_NAME, removePlatform } from '../services/platforms.ts';
import { EXIT, actor, type Io } from './output.ts';

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
      if (!name || !PLATFORM_NAME.test(name)) throw new CutoverError('INPUT_INVALID', { detail: 'usage: cutover platform add NAME --plugin ID --config FILE (NAME: letters, digits, . _ -)' });
      if (!values.plugin || !values.config) throw new CutoverError('INPUT_INVALID', { detail: 'platform add needs --plugin ID and --config FILE' });
      const plugin = app.plugins.get(values.plugin);
      const added = await addPlatform(app, { name, plugin: plugin.id, config: readConfigFile(values.config), skipTest: values['no-test'], from: 'cli' }, actor());
      io.out(`platform ${added.name} added (${added.plugin})`);
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
      if (!app.plugins.get(row.plugin).platform) throw new CutoverError('CONFIG_INVALID', { where: ` for plugin ${row.plugin}`, detail: 'it provides no mail platform' });
      const report = await testPlatform(app, row.name, { imap: false }, actor());
      if (report.connection && !report.connection.ok) throw report.connection.error;
      io.out(`platform ${report.name}: reachable; capabilities: ${Object.entries(report.capabilities ?? {}).filter(([, v]) => v).map(([k, v]) => (v === true ? k : `${k}=${v}`)).join(', ')}`);
      return EXIT.ok;
    }
    case 'remove': {
      await removePlatform(app, positionals[0] ?? '', actor());
      io.out(`platform ${positionals[0]} removed`);
      return EXIT.ok;
    }
    default:
      throw new CutoverError('INPUT_INVALID', { detail: 'usage: cutover platform add|list|test|remove …' });
  }
}
