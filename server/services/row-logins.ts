import { CutoverError } from '../errors.ts';
import { closeQuietly, openImap } from '../mail/imap.ts';
import type { PlatformConnector } from '../plugins/contract.ts';
import type { CheckedRow } from './mailbox-rows.ts';

/** Logins at once per side: well under Dovecot's 10 per user and IP, and a refused one costs its server's delay (2 s on Dovecot), not the file's. */
const PARALLEL_LOGINS = 4;

type Side = 'source' | 'dest';

/** Whether a row's credentials for one side should be tried: the platform needs them, or the row gives them. */
function credentialsFor(row: CheckedRow, side: Side, platform: PlatformConnector): { login?: string; password?: string } | null {
  const login = side === 'source' ? row.sourceLogin : row.destLogin;
  const password = side === 'source' ? row.sourcePassword : row.destPassword;
  // A destination the workflow creates accounts on has none to log in to yet.
  if (side === 'dest' && platform.capabilities.createAccount) return null;
  if (platform.capabilities.masterUser) return login ? { login } : null;
  return password ? { login, password } : null;
}

async function tryLogin(platform: PlatformConnector, row: CheckedRow, side: Side, credentials: { login?: string; password?: string }): Promise<void> {
  const login = credentials.login ?? row.address;
  try {
    await closeQuietly(await openImap(await platform.imapEndpoint(row.address, credentials.password, credentials.login)));
  } catch (err) {
    // A refused login is this row's problem; a server that cannot be reached is everyone's, and fails the whole check.
    if (!(err instanceof CutoverError) || err.code !== 'AUTH_FAILED') throw err;
    // A destination account may be created by hand when the workflow asks (create-destination): worth a warning, not a refusal.
    if (side === 'source') row.errors.push({ code: 'source_login_failed', params: { login, host: err.params.host ?? '' } });
    else row.warnings.push({ code: 'dest_login_failed', params: { login, host: err.params.host ?? '' } });
  }
}

/**
 * The last part of a dry run: each clean row logs in with its own credentials (the user name,
 * which may differ from the address, and the password) on each side that needs them, so a row
 * whose login fails is named before anything starts.
 */
export async function checkRowLogins(rows: CheckedRow[], source: PlatformConnector, dest: PlatformConnector): Promise<void> {
  const jobs: Array<() => Promise<void>> = [];
  for (const row of rows) {
    if (row.errors.length > 0) continue;
    for (const [side, platform] of [['source', source], ['dest', dest]] as const) {
      const credentials = credentialsFor(row, side, platform);
      if (credentials) jobs.push(() => tryLogin(platform, row, side, credentials));
    }
  }
  let next = 0;
  const worker = async () => { while (next < jobs.length) await jobs[next++]!(); };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_LOGINS, jobs.length) }, worker));
}
