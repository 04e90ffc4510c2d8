import { CutoverError } from '../../errors.ts';

const fixFor = (host: string) => {
  if (/office365|outlook|microsoft/i.test(host)) {
    return 'In Exchange Online: register the app\'s service principal (New-ServicePrincipal), give it FullAccess to this mailbox (Add-MailboxPermission), and turn IMAP on for the mailbox (Set-CASMailbox -ImapEnabled $true).';
  }
  if (/gmail|google/i.test(host)) return 'Turn IMAP access on for this user: Google Admin console → Apps → Google Workspace → Gmail → End User Access → POP and IMAP access.';
  return 'Turn IMAP on for this mailbox on the source, and check that the application may open it.';
};

// Exchange answers a token it accepts for a mailbox the app may not open (or where IMAP is off)
// with "AUTHENTICATE failed." or "User is authenticated but not connected."; Gmail with "not enabled for IMAP".
const IMAP_DISABLED = /AUTHENTICATE failed|authenticated but not connected|not enabled for IMAP|IMAP (access )?(is )?disabled/i;

/** A refused token login after one renewal, in words an admin can act on. */
export function tokenLoginError(err: unknown, host: string, address: string): CutoverError {
  const e = err as Error & { response?: string; responseText?: string; oauthError?: Record<string, unknown> };
  const said = [e.responseText, typeof e.response === 'string' ? e.response : '', e.message].filter(Boolean).join(' ');
  const oauth = e.oauthError ? ` (${Object.entries(e.oauthError).map(([k, v]) => `${k}=${String(v)}`).join(', ').slice(0, 200)})` : '';
  if (IMAP_DISABLED.test(said)) return new CutoverError('IMAP_DISABLED_FOR_USER', { host, address, detail: said.slice(0, 200), fix: fixFor(host) }, { cause: err });
  if (/Unsupported authentication mechanism/.test(said)) {
    return new CutoverError('OAUTH2_LOGIN_REFUSED', { host, address, detail: 'the server offers neither AUTH=XOAUTH2 nor AUTH=OAUTHBEARER' }, { cause: err });
  }
  return new CutoverError('OAUTH2_LOGIN_REFUSED', { host, address, detail: `${said.slice(0, 200)}${oauth}` }, { cause: err });
}
