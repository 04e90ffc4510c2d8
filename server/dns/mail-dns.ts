import { checkMx, type MxRecord } from './checks/mx.ts';
import { checkSpf } from './checks/spf.ts';
import { formatCheck } from './checks/format.ts';
import { worstStatus, type CheckResult, type CheckStatus } from './checks/types.ts';
import { formatNameServer, query, systemNameServers, type Answer, type NameServer, type QueryOptions, type RecordType } from './transport.ts';

export interface MailDnsExpectations { mx: MxRecord[]; spfIncludes: string[] }

export interface MailDnsReport {
  domain: string;
  /** The server(s) that answered, or the ones tried when none did. */
  server: string;
  /** Worst of the checks (see worstStatus). */
  status: CheckStatus;
  checks: CheckResult[];
  checkedAt: string;
  /** Why servers were skipped (timeouts, SERVFAIL…); explains an unknown check. */
  errors: string[];
}

interface Lookup { answers: Answer[] | null; answeredBy: string | null; errors: string[] }

/** Rcodes that are a real answer: NXDOMAIN and NODATA simply mean "no such records". */
const ANSWER_RCODES = new Set(['NOERROR', 'NXDOMAIN']);

export async function checkMailDns(domain: string, expected: MailDnsExpectations, servers: NameServer[], opts: QueryOptions = {}): Promise<MailDnsReport> {
  const pool = servers.length > 0 ? servers : systemNameServers();
  const wantSpf = expected.spfIncludes.length > 0;
  const [mx, txt] = await Promise.all([
    lookup(pool, domain, 'MX', opts),
    wantSpf ? lookup(pool, domain, 'TXT', opts) : null,
  ]);
  const checks = [checkMx(domain, mxRecords(mx.answers), expected.mx)];
  if (txt !== null) checks.push(checkSpf(domain, txtStrings(txt.answers), expected.spfIncludes));
  const lookups = txt === null ? [mx] : [mx, txt];
  return {
    domain,
    server: serverSummary(lookups, pool),
    status: worstStatus(checks.map((check) => check.status)),
    checks,
    checkedAt: new Date().toISOString(),
    errors: lookups.flatMap((entry) => entry.errors),
  };
}

/** Explanations are only printed when a check could not be made; a skipped server is otherwise noise. */
export function formatReport(report: MailDnsReport): string[] {
  const lines = report.checks.map(formatCheck);
  const unknown = report.checks.some((check) => check.status === 'unknown');
  return unknown ? [...lines, ...report.errors.map((error) => `  ${error}`)] : lines;
}

/** The first server that gives a real answer wins; one that fails is skipped, not believed. */
async function lookup(servers: NameServer[], name: string, type: RecordType, opts: QueryOptions): Promise<Lookup> {
  const errors: string[] = [];
  for (const server of servers) {
    try {
      const response = await query(server, name, type, opts);
      if (ANSWER_RCODES.has(response.rcode)) {
        return { answers: response.answers.filter((answer) => answer.type === type), answeredBy: formatNameServer(server), errors };
      }
      errors.push(`${formatNameServer(server)} answered ${response.rcode} for ${name} ${type}`);
    } catch (err) {
      errors.push(err instanceof Error ? err.message : String(err));
    }
  }
  return { answers: null, answeredBy: null, errors };
}

function mxRecords(answers: Answer[] | null): MxRecord[] | null {
  if (answers === null) return null;
  return answers.flatMap((answer) => (answer.type === 'MX' ? [{ priority: answer.data.preference ?? 0, exchange: answer.data.exchange }] : []));
}

function txtStrings(answers: Answer[] | null): string[][] | null {
  if (answers === null) return null;
  return answers.flatMap((answer) => {
    if (answer.type !== 'TXT') return [];
    const strings = Array.isArray(answer.data) ? answer.data : [answer.data];
    return [strings.map((part) => (typeof part === 'string' ? part : part.toString('utf8')))];
  });
}

function serverSummary(lookups: Lookup[], tried: NameServer[]): string {
  const answered = [...new Set(lookups.flatMap((entry) => (entry.answeredBy === null ? [] : [entry.answeredBy])))];
  return (answered.length > 0 ? answered : tried.map(formatNameServer)).join(', ');
}
