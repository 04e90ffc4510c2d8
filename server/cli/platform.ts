import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { AppContext } from '../context.ts';
import { listPlatforms, platformByName } from '../db/repos/platforms.ts';
import { CutoverError } from '../errors.ts';
import { autodetectPlatform } from '../services/autodetect.ts';
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

/** The test login's password: a file, a variable or stdin, never argv. */
async function readLoginPassword(values: Record<string, unknown>, stdin: NodeJS.ReadableStream): Promise<string> {
  const given = ['password-file', 'password-env', 'password-stdin'].filter((k) => values[k] !== undefined && values[k] !== false);
  if (given.length !== 1) throw new CutoverError('INPUT_INVALID', { detail: 'autodetect tests the settings with a login: give the password with exactly one of --password-file FILE, --password-env VAR, --password-stdin (or --no-test)' });
  if (values['password-file']) {
    try { return readFileSync(values['password-file'] as string, 'utf8').replace(/\r?\n$/, ''); } catch (err) {
      throw new CutoverError('INPUT_INVALID', { detail: `--password-file: cannot read ${values['password-file']} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` });
    }
  }
  if (values['password-env']) {
    const value = process.env[values['password-env'] as string];
    if (!value) throw new CutoverError('INPUT_INVALID', { detail: `--password-env: the variable ${values['password-env']} is empty` });
    return value;
  }
  let text = '';
  for await (const chunk of stdin) text += chunk;
  return text.replace(/\r?\n$/, '');
}

async function addAutodetected(app: AppContext, name: string, values: Record<string, unknown>, io: Io, stdin: NodeJS.ReadableStream): Promise<number> {
  const skipLogin = Boolean(values['no-test']);
  const password = skipLogin ? '' : await readLoginPassword(values, stdin);
  const result = await autodetectPlatform(app, {
    name, plugin: values.plugin as string | undefined, address: values.autodetect as string, password, skipLogin,
    nameservers: (values.nameserver as string[] | undefined) ?? [], autoconfigVia: values['autoconfig-via'] as string | undefined, caFile: values.ca as string | undefined,
    extraConfig: values.config ? readConfigFile(values.config as string) as Record<string, unknown> : undefined, from: 'cli',
  }, actor());
  const { detected } = result;
  if (values.json) {
    io.out(JSON.stringify({ name, plugin: result.platform.plugin, source: detected.source, config: { host: detected.config.host, port: detected.config.port, security: detected.config.security, provider: detected.config.provider, mailHost: detected.config.mailHost, expectedDns: detected.config.expectedDns }, login: detected.login ? 'ok' : 'skipped', tried: detected.tried, seconds: result.seconds }));
    return EXIT.ok;
  }
  io.out(`found ${detected.config.host}:${detected.config.port} (${detected.config.security}) from ${detected.source}${detected.config.provider ? `, provider ${detected.config.provider}` : ''}`);
  for (const line of detected.tried) io.out(`  tried: ${line}`);
  io.out(detected.login ? `login as ${detected.login.user}: ok` : 'login not tested (--no-test)');
  io.out(`platform ${name} added (${result.platform.plugin}) in ${result.seconds.toFixed(2)} s`);
  return EXIT.ok;
}

export async function platformCommand(app: AppContext, argv: string[], io: Io, stdin: NodeJS.ReadableStream = process.stdin): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest, allowPositionals: true,
    options: {
      plugin: { type: 'string' }, config: { type: 'string' }, 'no-test': { type: 'boolean' }, json: { type: 'boolean' },
      autodetect: { type: 'string' }, 'password-file': { type: 'string' }, 'password-env': { type: 'string' }, 'password-stdin': { type: 'boolean' },
      nameserver: { type: 'string', multiple: true }, 'autoconfig-via': { type: 'string' }, ca: { type: 'string' },
    },
  });
  switch (sub) {
    case 'add': {
      const name = positionals[0];
      if (!name || !PLATFORM_NAME.test(name)) throw new CutoverError('INPUT_INVALID', { detail: 'usage: cutover platform add NAME --plugin ID --config FILE | --autodetect ADDRESS --password-file FILE (NAME: letters, digits, . _ -)' });
      if (values.autodetect) return addAutodetected(app, name, values, io, stdin);
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
