import type { Db } from '../db/knex.ts';
import type { ProjectRow } from '../db/repos/projects.ts';
import { steps } from '../workflow/steps/index.ts';
import { existingKeys, type Detected } from './store.ts';

// States in which a mailbox still moves on by itself (the worker will pick it up).
const MOVING = ['queued', 'waiting', 'retrying'];
// A mailbox in one of these has been touched by the worker, whatever its step.
const TOUCHED = ['waiting', 'retrying', 'needs_admin', 'failed', 'done'];
const FAILED_LISTED = 20;
const NEEDS_ADMIN_PER_TICK = 500;

const mailboxSteps = steps.filter((s) => s.level === 'mailbox').map((s) => s.id);
const domainSteps = steps.filter((s) => s.level === 'domain').map((s) => s.id);

/**
 * What is worth a mail in one project right now, read from the mailbox rows (the state machine is
 * the truth; nothing is hooked into the steps):
 * - started: a mailbox left its first step, is held by a worker, or is in a state only a run produces;
 * - completed: every mailbox is done (keyed by the count, so mailboxes added later complete again);
 * - failed: at project level, when at least one mailbox failed and none can still move on by itself
 *   (nothing queued, waiting or retrying). One mail per such standstill, keyed by the latest failure:
 *   a retry that fails again is a new standstill; the same one seen at the next tick is not.
 * - needs an admin: once per mailbox and step; for a domain step (shared by every mailbox of the
 *   domain), once per domain and step.
 * Keys already recorded are dropped here; the insert is keyed too, for two workers racing.
 */
export async function detect(db: Db, project: ProjectRow): Promise<Detected[]> {
  const grouped: Array<{ state: string; n: number | string }> = await db('mailboxes').where({ project_id: project.id }).select('state').count({ n: '*' }).groupBy('state');
  const count = (states: string[]) => grouped.filter((g) => states.includes(g.state)).reduce((n, g) => n + Number(g.n), 0);
  const total = grouped.reduce((n, g) => n + Number(g.n), 0);
  if (total === 0) return [];
  const counts = Object.fromEntries(grouped.map((g) => [g.state, Number(g.n)]));
  const found: Detected[] = [];

  const startedKey = `project-started:${project.id}`;
  const completedKey = `project-completed:${project.id}:${total}`;
  const known = await existingKeys(db, [startedKey, completedKey]);
  if (!known.has(startedKey)) {
    const started = await db('mailboxes').where({ project_id: project.id })
      .andWhere((q) => q.whereNot('step', steps[0]!.id).orWhereIn('state', TOUCHED).orWhereNotNull('locked_by')).first('id');
    if (started) found.push({ key: startedKey, kind: 'project-started', projectId: project.id, detail: { mailboxes: total } });
  }
  if (count(['done']) === total && !known.has(completedKey)) {
    found.push({ key: completedKey, kind: 'project-completed', projectId: project.id, detail: { mailboxes: total } });
  }
  if (count(['failed']) > 0 && count(MOVING) === 0) {
    const failed: Array<{ id: number; address: string; step: string; error_code: string | null; error_message: string | null; updated_at: string }> = await db('mailboxes')
      .where({ project_id: project.id, state: 'failed' }).select('id', 'address', 'step', 'error_code', 'error_message', 'updated_at').orderBy('updated_at', 'desc').limit(FAILED_LISTED);
    const key = `project-failed:${project.id}:${failed[0]!.updated_at}`;
    if (!(await existingKeys(db, [key])).has(key)) {
      found.push({
        key, kind: 'project-failed', projectId: project.id,
        detail: { failed: count(['failed']), counts, mailboxes: failed.map((m) => ({ id: m.id, address: m.address, step: m.step, code: m.error_code, message: m.error_message })) },
      });
    }
  }
  if (count(['needs_admin']) > 0) found.push(...await needsAdmin(db, project.id));
  return found;
}

async function needsAdmin(db: Db, projectId: number): Promise<Detected[]> {
  const mailboxes: Array<{ id: number; address: string; step: string; manual_instructions: string | null }> = await db('mailboxes as m')
    .where({ 'm.project_id': projectId, 'm.state': 'needs_admin' }).whereIn('m.step', mailboxSteps)
    .whereNotExists(db('notifications as n').select(db.raw('1')).where('n.kind', 'mailbox-needs-admin').andWhereRaw('n.mailbox_id = m.id').andWhereRaw('n.step = m.step'))
    .select('m.id', 'm.address', 'm.step', 'm.manual_instructions').orderBy('m.id').limit(NEEDS_ADMIN_PER_TICK);
  const domains: Array<{ domain_id: number; step: string; name: string; detail: string | null; n: number | string }> = await db('mailboxes as m')
    .join('domains as d', 'd.id', 'm.domain_id')
    .leftJoin('domain_steps as s', (j) => j.on('s.domain_id', 'm.domain_id').andOn('s.step', 'm.step'))
    .where({ 'm.project_id': projectId, 'm.state': 'needs_admin' }).whereIn('m.step', domainSteps)
    .whereNotExists(db('notifications as n').select(db.raw('1')).where('n.kind', 'domain-needs-admin').andWhereRaw('n.domain_id = m.domain_id').andWhereRaw('n.step = m.step'))
    .groupBy('m.domain_id', 'm.step', 'd.name', 's.detail').select('m.domain_id', 'm.step', 'd.name', 's.detail').count({ n: '*' });
  return [
    ...mailboxes.map((m): Detected => ({
      key: `mailbox-needs-admin:${m.id}:${m.step}`, kind: 'mailbox-needs-admin', projectId, mailboxId: m.id, step: m.step,
      detail: { address: m.address, instructions: m.manual_instructions ?? '' },
    })),
    ...domains.map((d): Detected => ({
      key: `domain-needs-admin:${d.domain_id}:${d.step}`, kind: 'domain-needs-admin', projectId, domainId: d.domain_id, step: d.step,
      detail: { domain: d.name, mailboxes: Number(d.n), instructions: d.detail ?? '' },
    })),
  ];
}
