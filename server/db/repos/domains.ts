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
