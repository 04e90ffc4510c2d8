import type { AppContext } from '../../context.ts';
import { projectById, projectOptions } from '../../db/repos/projects.ts';
import type { MessageKey } from '../i18n.ts';
import { needsSourcePassword } from '../../plugins/contract.ts';

type Translate = (key: MessageKey, params?: Record<string, string | number>) => string;

/** The add-a-mailbox form: asks for the source password only where the source platform has no master user. */
export async function addMailboxModel(app: AppContext, projectId: number, t: Translate, form: { address?: string; errors?: string[] } = {}) {
  const project = await projectById(app.db, projectId);
  const source = await app.connector(project.source_platform_id);
  const needsPassword = needsSourcePassword(source.capabilities);
  return {
    title: t('mailboxAdd.title', { name: project.name }),
    project: { id: project.id, name: project.name },
    address: form.address ?? '',
    errors: form.errors ?? [],
    needsSourcePassword: needsPassword,
    fromFiles: source.capabilities.mailFromFiles === true,
    manual: projectOptions(project).startMode === 'manual',
  };
}
