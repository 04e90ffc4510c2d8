import { parseArgs } from 'node:util';
import type { AppContext } from '../context.ts';
import { listWorkers } from '../db/repos/workers.ts';
import { WORKER_LOST_AFTER_MS } from '../web/routes/workers.ts';
import { EXIT, type Io } from './output.ts';

/** `cutover workers [--json]`: every worker of the fleet, its host, current mailboxes and last heartbeat. */
export async function workersCommand(app: AppContext, argv: string[], io: Io): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { json: { type: 'boolean' } } });
  const workers = await listWorkers(app.db, Date.now(), WORKER_LOST_AFTER_MS);
  if (values.json) {
    io.out(JSON.stringify({ lostAfterSeconds: WORKER_LOST_AFTER_MS / 1000, workers }, null, 2));
    return EXIT.ok;
  }
  if (workers.length === 0) { io.out('no worker has run in the last 24 hours (start one with: cutover run)'); return EXIT.ok; }
  for (const w of workers) {
    io.out(`${w.host}\t${w.status.toUpperCase()}\theartbeat ${w.lastHeartbeat}\t${w.mailboxes.length} mailbox(es)${w.mailboxes.length ? `: ${w.mailboxes.join(', ')}` : ''}\t(${w.id})`);
  }
  return EXIT.ok;
}
