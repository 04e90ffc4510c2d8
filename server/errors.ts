// Every failure an admin can see has a stable code; the words live in one table so the CLI,
// the pages and the JSON API say the same thing.
export const messages = {
  AUTH_FAILED: 'Login refused by {host}: wrong user name or password.',
  HOST_UNREACHABLE: 'Cannot reach {host}: {detail}.',
  TLS_FAILED: 'The TLS certificate of {host} is not accepted: {detail}. Fix the certificate, pin its CA, or (knowingly) turn verification off.',
  FOLDER_UNKNOWN: 'No folder {folder} on {host}{hint}.',
  DOMAIN_UNKNOWN: 'The domain {domain} does not exist on platform {platform}.',
  DOMAIN_NO_ACCOUNTS: 'The domain {domain} has no active accounts on platform {platform}.',
  QUOTA_TOO_SMALL: 'The mailbox holds {need} but the destination allows only {allowed}.',
  DEST_ADDRESS_TAKEN: '{address} already exists on platform {platform} and was not created by this migration; remove it there or choose another destination.',
  SOURCE_ACCOUNT_MISSING: 'Neither {address} nor its temporary address exists on platform {platform}.',
  TEMP_ADDRESS_EXHAUSTED: 'No free temporary address for {address} (tried up to {last}).',
  PLATFORM_UNKNOWN: 'No platform named "{name}". Add it first with: cutover platform add {name} --plugin <id> --config <file>.',
  PLATFORM_EXISTS: 'A platform named "{name}" already exists.',
  PLATFORM_IN_USE: 'Platform "{name}" is used by project(s) {projects}; it cannot be removed while they use it.',
  PLUGIN_UNKNOWN: 'No plugin with id "{id}". Available: {available}.',
  CONFIG_INVALID: 'Invalid configuration{where}: {detail}',
  INPUT_INVALID: '{detail}',
  PROJECT_UNKNOWN: 'No project "{name}".',
  PROJECT_EXISTS: 'A project named "{name}" already exists.',
  PROJECT_BUSY: 'Cannot {action} project {name}: {count} mailbox(es) are still in progress ({states}). Stop them first, or let them finish.',
  MAILBOX_UNKNOWN: 'No mailbox migration "{ref}".',
  ACTION_NOT_ALLOWED: 'Cannot {action} {ref}: it is {state}.',
  MAILBOX_BUSY: '{address} is being worked on right now (step {step}); try again once the current step has ended (pause the mailbox to stop it going further).',
  FOLDER_PLAN_LOCKED: 'The folder plan of {address} cannot be changed: {reason}.',
  FOLDER_PLAN_INVALID: 'The folder plan of {address} has errors: {detail}',
  SYNC_POINT_UNKNOWN: '{address} has no sync point {pass}.',
  CONFIRMATION_REQUIRED: 'Nothing was deleted: confirm the deletion of the {messages} message(s) copied since sync point {pass}.',
  ROLLBACK_UNSUPPORTED: 'Cannot delete messages one by one on {host}: the server lacks UIDPLUS (UID EXPUNGE), and a plain EXPUNGE would also remove what the user marked as deleted.',
  DNS_QUERY_FAILED: 'DNS query for {name} {type} at {server} failed: {detail}.',
  DNS_REPLY_INVALID: 'Invalid DNS reply from {server} for {name} {type}: {detail}.',
  DNS_TSIG_REJECTED: 'The DNS server {server} refused the update of {zone} signed with key {key}: {error} ({detail}).',
  DNS_PREREQUISITE_FAILED: 'The zone {zone} changed since the change was planned ({rcode}: {detail}); nothing was applied.',
  DNS_UPDATE_REFUSED: 'The DNS server {server} refused the update of {zone}: {rcode} ({detail}).',
  DNS_RESPONSE_UNVERIFIED: 'The reply of {server} to the update of {zone} does not carry a valid signature of key {key} ({detail}); check the zone before trying again.',
  DNS_PROVIDER_UNSUITABLE: 'DNS provider {name}: {detail}',
  IMAP_FAILED: 'IMAP {command} failed on {host}: {detail}',
  FOLDER_CREATE_FAILED: 'Cannot create folder "{folder}" on {host}: {detail}',
  PLATFORM_FAILED: 'Platform {platform}: {detail}',
  PLATFORM_TASK_FAILED: 'Platform {platform}: task {task} ({what}) ended "{status}"{detail}.',
  PLATFORM_TASK_PENDING: 'Platform {platform}: task {task} ({what}) is still "{status}" after {seconds} s; cutover will look again.',
  ACCOUNT_SLOTS_MISSING: 'Platform {platform} has no free account for {address}: order {missing} more account(s) ({free} free, {needed} needed for this migration), then retry.',
  DOMAIN_AUTHORITATIVE_ELSEWHERE: 'Platform {platform} cannot attach {domain}: {detail}. Fix: {fix}',
  API_CREDENTIAL_INVALID: 'Platform API at {endpoint} refused the credentials: {detail}. {fix}',
  API_CALL_NOT_GRANTED: 'Platform API at {endpoint}: the consumer key does not allow {call}. {fix}',
  INTERNAL: 'Unexpected error: {detail}',
  IMAP_PROTOCOL: 'The IMAP server {host} broke the protocol: {detail}. Nothing it sent after that was used.',
  IMAP_STALLED: '{host} stopped answering: no progress for {seconds} s {during}; the pass was stopped (it resumes from the ledger on the next run).',
  PLATFORM_CANNOT: 'Platform {platform} cannot {action}: {detail}',
  ACCOUNTS_NEEDED: 'Platform {platform} cannot list the accounts of {domain}: give them with --accounts FILE (CSV: address,source_login,source_password,dest_login,dest_password) or paste the list.',
  AUTODETECT_FAILED: 'No usable IMAP settings found for {domain}: {detail}',
  OAUTH2_CONSENT_MISSING: '{provider} gives no token for {address}: consent missing ({detail}). {fix}',
  OAUTH2_KEY_REJECTED: '{provider} rejects the key of {client}: key revoked, deleted or not this account\'s ({detail}). {fix}',
  OAUTH2_CLIENT_UNKNOWN: '{provider} does not know the application {client} ({detail}). {fix}',
  OAUTH2_SECRET_INVALID: '{provider} refuses the client secret of application {client} ({detail}). {fix}',
  OAUTH2_USER_UNKNOWN: '{provider} has no user {address} ({detail}). Check the address: it must be the user\'s primary address.',
  OAUTH2_TOKEN_FAILED: '{provider} token endpoint {endpoint} gave no token{forUser}: {detail}.{fix}',
  IMAP_DISABLED_FOR_USER: 'IMAP disabled for this user: {host} refuses the token login of {address} ({detail}). {fix}',
  OAUTH2_LOGIN_REFUSED: '{host} refuses the token login of {address}: {detail}.',
  DAV_FAILED: '{method} {url} failed: {detail}',
  DAV_REPLY_INVALID: 'The DAV server sent an invalid reply to {where}: {detail}.',
  DAV_NOT_FOUND: 'No CalDAV/CardDAV service found for {who}: {detail}. Give the server\'s URL (--source-dav/--dest-dav, or the platform\'s dav settings).',
  SIEVE_FAILED: 'ManageSieve {command} failed on {host}: {detail}',
  SIEVE_REPLY_INVALID: 'The ManageSieve server {host} sent an invalid reply: {detail}.',
  STARTTLS_MISSING: '{host} does not offer STARTTLS, and mail and passwords are not sent in clear text except to a loopback address (or with --allow-plaintext, "allowPlaintext": true). Use implicit TLS (imaps://, port 993) if the server has it.',
  HOST_BUSY: 'No connection to {host} free within {seconds} s: the fleet already holds its limit of {limit} (platform setting max connections); will retry.',
  FILE_UNREADABLE: 'Cannot read {file}: {detail}.',
  COPY_WINDOW_CLOSED: 'The copy window of project {project} closed at {closedAt}; the pass stopped between two messages and resumes at the next opening ({opensAt}).',
  LINK_EXPIRED: 'This link has already been used or has expired.',
  UPLOAD_UNKNOWN: 'No uploaded file {ref} for this mailbox.',
  UPLOAD_TOO_LARGE: '{name}: {size} bytes is over the upload limit of {limit} bytes (CUTOVER_UPLOAD_MAX_MB).',
  UPLOAD_OFFSET: 'The upload of {name} is at byte {offset}, not {sent}: ask where it stands (HEAD) and send from there.',
  UPLOAD_STATE: '{name} is {state}: {detail}.',
  IMAP_THROTTLED: '{host} kept refusing {during} for throttling ({attempts} times over {seconds} s; last answer: "{detail}"); the pass was stopped (it resumes from the ledger on the next run).',
} as const;

export type ErrorCode = keyof typeof messages;

export class CutoverError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly params: Record<string, string | number>;
  constructor(code: ErrorCode, params: Record<string, string | number> = {}, opts: { retryable?: boolean; cause?: unknown } = {}) {
    super(render(code, params), { cause: opts.cause });
    this.name = 'CutoverError';
    this.code = code;
    this.params = params;
    this.retryable = opts.retryable ?? false;
  }

  /** What a script needs to act on the error beyond its code and words; the API adds it to its error object. */
  get details(): Record<string, unknown> | undefined {
    return undefined;
  }
}

function render(code: ErrorCode, params: Record<string, string | number>): string {
  return messages[code].replace(/\{(\w+)\}/g, (_, key: string) => String(params[key] ?? ''));
}

export function toCutoverError(err: unknown): CutoverError {
  if (err instanceof CutoverError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  return new CutoverError('INTERNAL', { detail }, { retryable: true, cause: err });
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) { value /= 1000; unit++; }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}
