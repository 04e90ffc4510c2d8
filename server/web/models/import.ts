import type { AppContext } from '../../context.ts';
import { projectById, projectOptions } from '../../db/repos/projects.ts';
import { MAX_IMPORT_BYTES, MAX_IMPORT_ROWS } from '../../services/import-parse.ts';
import { importRows, pendingImport, type ImportRowView } from '../../services/import.ts';
import type { RowProblem } from '../../services/mailbox-rows.ts';
import { isMessageKey, type MessageKey } from '../i18n.ts';
import { needsSourcePassword } from '../../plugins/contract.ts';

type Translate = (key: MessageKey, params?: Record<string, string | number>) => string;

// A page stays readable for 10,000 rows: every bad row up to this many, and a sample of the clean ones.
const SHOWN_BAD = 500;
const SHOWN_CLEAN = 100;

/** A row's problem in the admin's words (`import.problem.<code>`); an unknown code shows as itself. */
export function problemText(t: Translate, problem: RowProblem<string>): string {
  const key = `import.problem.${problem.code}`;
  return isMessageKey(key) ? t(key, problem.params) : problem.code;
}

function rowLine(t: Translate, row: ImportRowView) {
  return { ...row, errors: row.errors.map((p) => problemText(t, p)), warnings: row.warnings.map((p) => problemText(t, p)) };
}

/** The import page: the upload form, the templates, and the last dry run row by row with what the admin may do with it. */
export async function importPageModel(app: AppContext, projectId: number, t: Translate, error?: string) {
  const project = await projectById(app.db, projectId);
  const pending = await pendingImport(app, project.id);
  const source = await app.connector(project.source_platform_id);
  const dryRun = pending && {
    ...pending,
    clean: pending.total - pending.bad,
    badRows: (await importRows(app, pending.id, { bad: true, limit: SHOWN_BAD })).map((r) => rowLine(t, r)),
    cleanRows: (await importRows(app, pending.id, { bad: false, limit: SHOWN_CLEAN })).map((r) => rowLine(t, r)),
    moreBad: Math.max(0, pending.bad - SHOWN_BAD),
    moreClean: Math.max(0, pending.total - pending.bad - SHOWN_CLEAN),
    canImport: pending.bad === 0,
    canDropBad: pending.bad > 0 && pending.bad < pending.total,
  };
  return {
    title: t('import.title', { name: project.name }),
    project: { id: project.id, name: project.name, open: project.state === 'active' },
    manual: projectOptions(project).startMode === 'manual',
    masterUser: !needsSourcePassword(source.capabilities),
    fromFiles: source.capabilities.mailFromFiles === true,
    maxRows: MAX_IMPORT_ROWS,
    maxMb: MAX_IMPORT_BYTES / 1024 / 1024,
    dryRun,
    error,
  };
}
