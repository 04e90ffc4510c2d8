import type { Db } from '../knex.ts';

export interface DomainRow { id: number; project_id: number; name: string }
export interface DomainStepRow { domain_id: number; step: string; status: 'pending' | 'waiting' | 'done'; detail: string | null; confirmed_by: string | null; completed_at: string | null }

export async function domainById(db: Db, id: number): Promise<DomainRow> {
  return (await db<DomainRow>('domains').where({ id }).first())!;
}

export async function domainStep(db: Db, domainId: number, step: string): Promise<DomainStepRow | undefined> {
  return db<DomainStepRow>('domain_steps').where({ domain_id: domainId, step }).first();
}

export async function saveDomainStep(db: Db, domainId: number, step: string, patch: Partial<Omit<DomainStepRow, 'domain_id' | 'step'>>): Promise<void> {
  await db('domain_steps').insert({ domain_id: domainId, step, status: 'pending', ...patch }).onConflict(['domain_id', 'step']).merge(patch);
}

export function projectDomains(db: Db, projectId: number): Promise<DomainRow[]> {
  return db<DomainRow>('domains').where({ project_id: projectId }).orderBy('name');
}

/** The domain row is the lock of its domain steps across every worker: taken when free, expired or already ours. */
export async function lockDomain(db: Db, domainId: number, worker: string, now: number, leaseMs: number): Promise<boolean> {
  const updated = await db('domains')
    .where({ id: domainId })
    .andWhere((q) => q.whereNull('locked_until').orWhere('locked_until', '<', now).orWhere('locked_by', worker))
    .update({ locked_by: worker, locked_until: now + leaseMs });
  return updated === 1;
}

export async function renewDomainLock(db: Db, domainId: number, worker: string, now: number, leaseMs: number): Promise<void> {
  await db('domains').where({ id: domainId, locked_by: worker }).update({ locked_until: now + leaseMs });
}

export async function unlockDomain(db: Db, domainId: number, worker: string): Promise<void> {
  await db('domains').where({ id: domainId, locked_by: worker }).update({ locked_by: null, locked_until: null });
}
