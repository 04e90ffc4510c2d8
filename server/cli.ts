import { openContext, type AppContext } from './context.ts';
import { actionCommand } from './cli/actions.ts';
import { migrateCommand } from './cli/migrate.ts';
import { describe, EXIT, exitCodeFor, stdio, type Io } from './cli/output.ts';
import { platformCommand } from './cli/platform.ts';
import { runCommand } from './cli/run.ts';
import { statusCommand } from './cli/status.ts';

type Command = (app: AppContext, argv: string[], io: Io) => Promise<number>;

const commands: Record<string, { summary: string; run: Command }> = {
  platform: { summary: 'platform add NAME --plugin ID --config FILE | list | test NAME | remove NAME', run: platformCommand },
  migrate: { summary: 'migrate --from A --to B --domain D [--wait] [--json] [--overlap 4h] [--nameserver HOST:PORT] [--passwords FILE]', run: migrateCommand },
  status: { summary: 'status [PROJECT] [--json]', run: statusCommand },
  run: { summary: 'run [--until-idle] [--concurrency N]   the worker loop', run: runCommand },
  pause: { summary: 'pause MAILBOX', run: (app, argv, io) => actionCommand(app, 'pause', argv, io) },
  resume: { summary: 'resume MAILBOX', run: (app, argv, io) => actionCommand(app, 'resume', argv, io) },
  stop: { summary: 'stop MAILBOX   (keeps what was copied)', run: (app, argv, io) => actionCommand(app, 'stop', argv, io) },
  retry: { summary: 'retry MAILBOX   (re-runs the failed step)', run: (app, argv, io) => actionCommand(app, 'retry', argv, io) },
  confirm: { summary: 'confirm MAILBOX | confirm --project P --domain D [--step dns-cutover]', run: (app, argv, io) => actionCommand(app, 'confirm', argv, io) },
  serve: { summary: 'serve [--port 8080]   the web panel and a worker', run: async (app, argv, io) => (await import('./main.ts')).serveCommand(app, argv, io) },
  demo: { summary: 'demo [--port 8080]   two local Dovecot platforms, a DNS zone and the panel', run: async (app, argv, io) => (await import('./demo/demo.ts')).demoCommand(app, argv, io) },
};

function usage(io: Io): void {
  io.out('usage: cutover <command> …');
  for (const [name, c] of Object.entries(commands)) io.out(`  cutover ${c.summary.startsWith(name) ? c.summary : `${name} ${c.summary}`}`);
}

export async function main(argv: string[], io: Io = stdio): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') { usage(io); return name ? EXIT.ok : EXIT.usage; }
  const command = commands[name];
  if (!command) { io.err(`unknown command "${name}"`); usage(io); return EXIT.usage; }
  let app: AppContext | undefined;
  try {
    app = await openContext();
    return await command.run(app, rest, io);
  } catch (err) {
    io.err(describe(err));
    app?.log.debug({ err }, 'command failed');
    return (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || (err as { code?: string }).code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' ? EXIT.usage : exitCodeFor(err);
  } finally {
    await app?.close();
  }
}
