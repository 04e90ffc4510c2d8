import type { AppContext } from './context.ts';
import { describe, EXIT, exitCodeFor, stdio, type Io } from './cli/output.ts';
import type { MailboxAction } from './services/actions.ts';

type Command = (app: AppContext, argv: string[], io: Io) => Promise<number>;
type StandaloneCommand = (argv: string[], io: Io) => Promise<number>;

// Each command's module loads only when it runs: a scripted `cutover copy` starts without the
// workflow, the database or the web stack.
const action = (name: MailboxAction): Command => async (app, argv, io) => (await import('./cli/actions.ts')).actionCommand(app, name, argv, io);

// `standalone` commands need no data directory or database (a one-shot copy for scripts).
const commands: Record<string, { summary: string; run?: Command; standalone?: StandaloneCommand }> = {
  copy: { summary: 'copy --source imaps://USER@HOST --source-password-file F --dest imaps://USER@HOST --dest-password-file F [--json] [--state FILE] [--exclude FOLDER] [--max-size 25M] [--since YYYY-MM-DD] [--dry-run] [--concurrency N] [--source-auth-user MASTER] [--source-provider gmail|microsoft365] [--source-oauth2-config F] [--dest-oauth2-config F] [--no-tls-verify] [--allow-plaintext]', standalone: async (argv, io) => (await import('./cli/copy.ts')).copyCommand(argv, io) },
  platform: { summary: 'platform add NAME --plugin ID --config FILE | add NAME --autodetect ADDRESS --password-file F | list | test NAME | remove NAME', run: async (app, argv, io) => (await import('./cli/platform.ts')).platformCommand(app, argv, io) },
  migrate: { summary: 'migrate --from A --to B --domain D [--wait] [--json] [--overlap 4h] [--nameserver HOST:PORT] [--passwords FILE]', run: async (app, argv, io) => (await import('./cli/migrate.ts')).migrateCommand(app, argv, io) },
  status: { summary: 'status [PROJECT] [--json]', run: async (app, argv, io) => (await import('./cli/status.ts')).statusCommand(app, argv, io) },
  run: { summary: 'run [--until-idle [--max-wait 5m]] [--concurrency N]   the worker loop (--until-idle also waits for retries due within --max-wait)', run: async (app, argv, io) => (await import('./cli/run.ts')).runCommand(app, argv, io) },
  db: { summary: 'db copy --to postgres://USER@HOST/DB   move this SQLite installation to PostgreSQL (every table, counts checked)', run: async (app, argv, io) => (await import('./cli/db.ts')).dbCommand(app, argv, io) },
  workers: { summary: 'workers [--json]   every worker sharing the database: host, mailboxes now, last heartbeat (lost when stale)', run: async (app, argv, io) => (await import('./cli/workers.ts')).workersCommand(app, argv, io) },
  connections: { summary: 'connections [PLATFORM N|off]   per-host connection limit of a platform, across every worker', run: async (app, argv, io) => (await import('./cli/connections.ts')).connectionsCommand(app, argv, io) },
  pause: { summary: 'pause MAILBOX', run: action('pause') },
  resume: { summary: 'resume MAILBOX', run: action('resume') },
  stop: { summary: 'stop MAILBOX   (keeps what was copied)', run: action('stop') },
  retry: { summary: 'retry MAILBOX   (re-runs the failed step)', run: action('retry') },
  confirm: { summary: 'confirm MAILBOX | confirm --project P --domain D [--step dns-cutover]', run: action('confirm') },
  dns: { summary: 'dns check DOMAIN (--platform NAME | --mx PRIO:HOST …) [--nameserver HOST:PORT] [--json] | plan | ttl | recheck   DNS diagnosis and changes', run: async (app, argv, io) => (await import('./cli/dns.ts')).dnsCommand(app, argv, io) },
  ovh: { summary: 'ovh rules|credential|check --config FILE | domain-mode --platform NAME --domain D --non-authoritative | dns-status --platform NAME --domain D   OVHcloud API keys and fixes', run: async (app, argv, io) => (await import('./cli/ovh.ts')).ovhCommand(app, argv, io) },
  admin: { summary: 'admin create NAME | password NAME | list | token create NAME --user ADMIN | token list | token revoke ID   panel accounts (passwords read from stdin) and API tokens', run: async (app, argv, io) => (await import('./cli/admin.ts')).adminCommand(app, argv, io) },
  serve: { summary: 'serve [--port 8080] [--no-worker]   the web panel and a worker (--no-worker: the panel only)', run: async (app, argv, io) => (await import('./main.ts')).serveCommand(app, argv, io) },
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
    if (command.standalone) return await command.standalone(rest, io);
    app = await (await import('./context.ts')).openContext();
    return await command.run!(app, rest, io);
  } catch (err) {
    io.err(describe(err));
    app?.log.debug({ err }, 'command failed');
    return exitCodeFor(err);
  } finally {
    await app?.close();
  }
}
