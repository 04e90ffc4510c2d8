import { formatBytes, type CutoverError } from '../../errors.ts';
import type { Outcome, PlatformTestReport } from '../../services/platform-test.ts';
import type { MessageKey } from '../i18n.ts';

type T = (key: MessageKey, params?: Record<string, string | number>) => string;
type Text = (err: CutoverError) => string;

export type OutcomeJson<V> = { ok: true; value: V } | { ok: false; error: { code: string; message: string } };

function outcome<V>(o: Outcome<V>, text: Text): OutcomeJson<V> {
  return o.ok ? o : { ok: false, error: { code: o.error.code, message: text(o.error) } };
}

/** The test report as the API answers it: outcomes carry a code and the message in the reader's language. */
export function testReportJson(report: PlatformTestReport, text: Text) {
  const imap = report.imap;
  return {
    name: report.name, plugin: report.plugin, kinds: report.kinds, ok: report.ok,
    connection: report.connection ? outcome(report.connection, text) : null,
    capabilities: report.capabilities ?? null,
    limits: report.limits ? { ...report.limits, freeAccountSlots: report.limits.freeAccountSlots ? outcome(report.limits.freeAccountSlots, text) : undefined } : null,
    domain: report.domain ? { name: report.domain.name, exists: outcome(report.domain.exists, text), accounts: report.domain.accounts ? outcome(report.domain.accounts, text) : undefined } : null,
    imap: imap ? { host: imap.host ?? null, port: imap.port ?? null, security: imap.security ?? null, account: imap.account ?? null, result: outcome(imap.result, text) } : null,
    dns: report.dns ? { zone: report.dns.zone, manages: outcome(report.dns.manages, text) } : null,
  };
}

type Line = { label: string; ok: boolean; text: string };

/** The test page: one line per finding (ok or not, in words), the capability table and the IMAP extensions. */
export function testPageModel(report: PlatformTestReport, t: T, text: Text) {
  const json = testReportJson(report, text);
  const line = <V>(label: string, o: OutcomeJson<V> | undefined | null, say: (v: V) => string, good: (v: V) => boolean = () => true): Line | null =>
    (o ? { label, ok: o.ok && good(o.value), text: o.ok ? say(o.value) : `${o.error.code}: ${o.error.message}` } : null);
  const findings = [
    line(t('platforms.test.connection'), json.connection, () => t('platforms.test.connected')),
    line(t('platforms.test.domain', { domain: json.domain?.name ?? '' }), json.domain?.exists, (v) => t(v ? 'platforms.test.domainExists' : 'platforms.test.domainMissing'), Boolean),
    line(t('platforms.test.accounts'), json.domain?.accounts, (n) => String(n)),
    line(t('platforms.test.imapLogin'), json.imap?.result, (v) => t(v.stage === 'authenticated' ? 'platforms.test.imapLoggedIn' : 'platforms.test.imapGreeting', { account: json.imap?.account ?? '' })),
    line(t('platforms.test.zone', { zone: json.dns?.zone ?? '' }), json.dns?.manages, (v) => t(v ? 'platforms.test.manages' : 'platforms.test.notManaged'), Boolean),
  ].filter((l): l is Line => l !== null);
  const caps = report.capabilities;
  const capabilities = caps ? (Object.keys(caps) as Array<keyof typeof caps>).filter((k) => k !== 'maxMailboxBytes').map((name) => ({ name, yes: Boolean(caps[name]) })) : [];
  const slots = json.limits?.freeAccountSlots;
  const limits = json.limits ? [
    { label: t('platforms.test.maxMailbox'), text: json.limits.maxMailboxBytes ? formatBytes(json.limits.maxMailboxBytes) : t('platforms.test.noLimit') },
    ...(slots ? [{ label: t('platforms.test.freeSlots', { domain: json.limits.domain ?? '' }), text: slots.ok ? (slots.value === null ? t('platforms.test.unlimited') : String(slots.value)) : `${slots.error.code}: ${slots.error.message}` }] : []),
  ] : [];
  const imap = json.imap;
  return {
    report: json, findings, capabilities, limits,
    imap: imap && { where: imap.host ? `${imap.host}:${imap.port} (${imap.security})` : null, stage: imap.result.ok ? imap.result.value.stage : null, extensions: imap.result.ok ? imap.result.value.capabilities : [] },
  };
}
