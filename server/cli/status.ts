import { parseArgs } from 'node:util';
import type { AppContext } from '../context.ts';
import { listProjects, projectById, projectByName } from '../db/repos/projects.ts';
import { formatBytes } from '../errors.ts';
import { projectReport, type ProjectReport } from '../services/report.ts';
import { EXIT, type Io } from './output.ts';

export function printReport(report: ProjectReport, io: Io, json: boolean): void {
  if (json) { io.out(JSON.stringify(report, null, 2)); return; }
  const { project, counts } = report;
  io.out(`project ${project.name} (#${project.id}): ${project.source} → ${project.destination}; ${Object.entries(counts).map(([s, n]) => `${n} ${s}`).join(', ')}`);
  for (const m of report.mailboxes) {
    const progress = m.totalMessages !== null ? `${m.copiedMessages}/${m.totalMessages} msgs` : `${m.copiedMessages} msgs`;
    io.out(`  ${m.address}  ${m.state} at ${m.step}  ${progress}, ${formatBytes(m.copiedBytes)}${m.tempAddress ? `  old account: ${m.tempAddress}` : ''}`);
    if (m.error) io.out(`    error [${m.error.code}]: ${m.error.message}`);
    if (m.waitingFor && m.state !== 'done') for (const line of m.waitingFor.split('\n')) io.out(`    ${line}`);
    if (m.newPassword) io.out(`    new password (shown once): ${m.newPassword}`);
  }
}

export async function statusCommand(app: AppContext, argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { json: { type: 'boolean' } } });
  const ref = positionals[0];
  const projects = ref ? [/^\d+$/.test(ref) ? await projectById(app.db, Number(ref)) : await projectByName(app.db, ref)] : await listProjects(app.db);
  const reports = [];
  for (const project of projects) reports.push(await projectReport(app, project, { revealPasswords: true }));
  if (values.json) io.out(JSON.stringify(ref ? reports[0] : reports, null, 2));
  else if (reports.length === 0) io.out('no projects yet: start one with cutover migrate --from A --to B --domain D');
  else for (const report of reports) printReport(report, io, false);
  return EXIT.ok;
}
