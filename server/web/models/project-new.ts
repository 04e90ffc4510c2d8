import type { AppContext } from '../../context.ts';
import { listPlatforms } from '../../db/repos/platforms.ts';
import { projectOptionsSchema, type ProjectOptions } from '../../db/repos/projects.ts';
import { emailAddress } from '../../net.ts';
import { formatNameServer, parseNameServer } from '../../dns/transport.ts';
import { durationSeconds } from '../../duration.ts';
import { STALL_SECONDS_MAX, STALL_SECONDS_MIN } from '../../mail/guard.ts';
import type { MessageKey } from '../i18n.ts';

type Translate = (key: MessageKey, params?: Record<string, string | number>) => string;

/** The new-project form as typed: strings, so that a refused form comes back exactly as it was sent. */
export interface ProjectFormValues {
  name: string;
  source: string;
  destination: string;
  excludeFolders: string;
  maxMessageMb: string;
  concurrency: string;
  tempPattern: string;
  overlap: string;
  resetSource: boolean;
  startMode: 'auto' | 'manual';
  notify: string;
  nameservers: string;
  dnsRecheck: string;
  dnsProvider: string;
  stallTimeout: string;
}

export type ProjectFormErrors = Partial<Record<keyof ProjectFormValues, string>>;

const MB = 1024 * 1024;

export function defaultProjectForm(): ProjectFormValues {
  const defaults = projectOptionsSchema.parse({});
  return {
    name: '', source: '', destination: '', excludeFolders: '', maxMessageMb: '', concurrency: String(defaults.concurrency),
    tempPattern: defaults.tempPattern, overlap: `${defaults.overlapSeconds / 3600}h`, resetSource: defaults.resetSource, startMode: defaults.startMode, notify: '',
    nameservers: '', dnsRecheck: `${defaults.dnsRecheckSeconds / 60}m`, dnsProvider: '', stallTimeout: `${defaults.stallTimeoutSeconds}s`,
  };
}

export function readProjectForm(body: Record<string, unknown> | undefined): ProjectFormValues {
  const text = (key: string) => (typeof body?.[key] === 'string' ? (body[key] as string) : '').slice(0, 2000);
  return {
    name: text('name').trim(), source: text('source'), destination: text('destination'), excludeFolders: text('excludeFolders'),
    maxMessageMb: text('maxMessageMb').trim(), concurrency: text('concurrency').trim(), tempPattern: text('tempPattern').trim(),
    overlap: text('overlap').trim(), resetSource: body?.resetSource === 'yes', startMode: body?.startMode === 'manual' ? 'manual' : 'auto', notify: text('notify'),
    nameservers: text('nameservers'), dnsRecheck: text('dnsRecheck').trim(), dnsProvider: text('dnsProvider'), stallTimeout: text('stallTimeout').trim(),
  };
}

function lines(text: string): string[] {
  return text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
}

/**
 * The form's values as project options, each field checked in the admin's words; the service
 * checks everything again (the API does not come through here).
 */
export function projectFormInput(values: ProjectFormValues, t: Translate): { errors: ProjectFormErrors; options: Partial<ProjectOptions> } {
  const errors: ProjectFormErrors = {};
  const options: Partial<ProjectOptions> = { startMode: values.startMode, resetSource: values.resetSource, excludeFolders: lines(values.excludeFolders) };
  if (!values.name) errors.name = t('projectNew.error.name');
  if (!values.source) errors.source = t('projectNew.error.platform');
  if (!values.destination) errors.destination = t('projectNew.error.platform');
  else if (values.destination === values.source) errors.destination = t('projectNew.error.samePlatform');
  if (values.maxMessageMb) {
    if (/^\d+$/.test(values.maxMessageMb) && Number(values.maxMessageMb) > 0) options.maxMessageBytes = Number(values.maxMessageMb) * MB;
    else errors.maxMessageMb = t('projectNew.error.positive');
  }
  const concurrency = Number(values.concurrency);
  if (/^\d+$/.test(values.concurrency) && concurrency >= 1 && concurrency <= 64) options.concurrency = concurrency;
  else errors.concurrency = t('projectNew.error.concurrency');
  if (values.tempPattern) {
    if (projectOptionsSchema.shape.tempPattern.safeParse(values.tempPattern).success) options.tempPattern = values.tempPattern;
    else errors.tempPattern = t('projectNew.error.tempPattern');
  }
  const overlap = durationSeconds(values.overlap);
  if (overlap === null) errors.overlap = t('projectNew.error.duration', { value: values.overlap });
  else options.overlapSeconds = overlap;
  const nameservers = lines(values.nameservers).map((spec) => { try { return formatNameServer(parseNameServer(spec)); } catch { return null; } });
  if (nameservers.includes(null)) errors.nameservers = t('projectNew.error.nameservers');
  else options.nameservers = nameservers as string[];
  if (values.dnsRecheck) {
    const recheck = durationSeconds(values.dnsRecheck);
    if (recheck === null || recheck < 1) errors.dnsRecheck = t('projectNew.error.duration', { value: values.dnsRecheck });
    else options.dnsRecheckSeconds = recheck;
  }
  if (values.dnsProvider) options.dnsProvider = values.dnsProvider;
  if (values.stallTimeout) {
    const stall = durationSeconds(values.stallTimeout);
    if (stall === null || !projectOptionsSchema.shape.stallTimeoutSeconds.safeParse(stall).success) errors.stallTimeout = t('projectNew.error.stallTimeout', { min: STALL_SECONDS_MIN, max: STALL_SECONDS_MAX / 60 });
    else options.stallTimeoutSeconds = stall;
  }
  const recipients = values.notify.split(/[\s,;]+/).filter(Boolean);
  const badRecipients = recipients.filter((r) => !emailAddress.safeParse(r).success);
  if (badRecipients.length) errors.notify = t('projectNew.error.email', { addresses: badRecipients.join(', ') });
  else options.notify = recipients.map((r) => emailAddress.parse(r));
  return { errors, options };
}

/** Platform rows whose plugin can change a zone: the dns-cutover step then applies the records itself. */
async function dnsProviderNames(app: AppContext): Promise<string[]> {
  return (await listPlatforms(app.db)).filter((p) => { try { return Boolean(app.plugins.get(p.plugin).dns); } catch { return false; } }).map((p) => p.name);
}

/** Platforms that hold mailboxes (a DNS provider is a platform row too, but migrates nothing). */
export async function mailPlatformNames(app: AppContext): Promise<string[]> {
  return (await listPlatforms(app.db)).filter((p) => { try { return Boolean(app.plugins.get(p.plugin).platform); } catch { return false; } }).map((p) => p.name);
}

export async function projectFormModel(app: AppContext, values: ProjectFormValues, errors: ProjectFormErrors = {}, error?: string) {
  const platforms = await mailPlatformNames(app);
  return {
    form: values, errors, error,
    sources: platforms.map((name) => ({ name, selected: name === values.source })),
    destinations: platforms.map((name) => ({ name, selected: name === values.destination })),
    manual: values.startMode === 'manual',
    dnsProviders: (await dnsProviderNames(app)).map((name) => ({ name, selected: name === values.dnsProvider })),
    optionsOpen: Boolean(errors.maxMessageMb || errors.concurrency || errors.tempPattern || errors.overlap || errors.nameservers || errors.dnsRecheck || errors.stallTimeout),
    noPlatforms: platforms.length < 2,
  };
}
