import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { accessRules, type AccessRule } from '../../plugins/ovhcloud/access-rules.ts';
import { configSchema, type OvhConfig } from '../../plugins/ovhcloud/config.ts';
import type { AppContext } from '../context.ts';
import { platformByName } from '../db/repos/platforms.ts';
import { diagnoseMailDns, formatReport } from '../dns/mail-dns.ts';
import { parseNameServer } from '../dns/transport.ts';
import { CutoverError } from '../errors.ts';
import { domainName } from '../net.ts';
import { checkCredential, ovhPlatform, requestConsumerKey } from '../services/ovh-credential.ts';
import { EXIT, type Io } from './output.ts';

const USAGE = `usage:
  cutover ovh rules --config FILE [--json]
      the consumer-key access rules this configuration needs
  cutover ovh credential --config FILE [--out CK_FILE] [--redirect URL] [--json]
      asks OVHcloud for a consumer key with exactly those rules (POST /auth/credential, only the
      application key is sent); open the printed URL to validate it. With --out the key is
      written to CK_FILE (mode 0600) for consumerKeyFile, not printed.
  cutover ovh check (--config FILE | --platform NAME) [--json]
      the key's state, expiry and any rule it lacks (GET /auth/currentCredential)
  cutover ovh domain-mode --platform NAME --domain DOMAIN --non-authoritative [--relay HOST]
      switches a domain of an OVHcloud platform to non-authoritative (the fix for
      "authoritative domain detected"), then waits for its state ok
  cutover ovh dns-status --platform NAME --domain DOMAIN [--nameserver HOST:PORT …] [--authoritative HOST:PORT …]
      the platform's own DNS diagnostic (mxIsValid, spfIsValid, srvIsValid) next to cutover's checks
Secrets are never taken on the command line: the configuration names them inline, in a file
(applicationSecretFile, consumerKeyFile) or in an environment variable (…Env).`;

const usage = (detail: string) => new CutoverError('INPUT_INVALID', { detail: `${detail}\n${USAGE}` });

function readConfig(file: string): OvhConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new CutoverError('CONFIG_INVALID', { where: ` in ${file}`, detail: (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message });
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) throw new CutoverError('CONFIG_INVALID', { where: ` in ${file}`, detail: parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ') });
  return parsed.data;
}

const ruleKey = (r: AccessRule) => `${r.method} ${r.path}`;

export async function ovhCommand(app: AppContext, argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      config: { type: 'string' }, platform: { type: 'string' }, out: { type: 'string' }, redirect: { type: 'string' }, json: { type: 'boolean' },
      domain: { type: 'string' }, 'non-authoritative': { type: 'boolean' }, relay: { type: 'string' },
      nameserver: { type: 'string', multiple: true }, authoritative: { type: 'string', multiple: true },
    },
  });
  const config = async (): Promise<OvhConfig> => {
    if (values.config) return readConfig(values.config);
    if (values.platform) return (await ovhPlatform(app, values.platform)).config;
    throw usage('--config FILE or --platform NAME is required');
  };

  switch (sub) {
    case 'rules': {
      const rules = accessRules(await config());
      if (values.json) io.out(JSON.stringify(rules));
      else for (const r of rules) io.out(ruleKey(r));
      return EXIT.ok;
    }

    case 'credential': {
      const { rules, ...answer } = await requestConsumerKey(await config(), values.redirect);
      if (values.out) writeFileSync(values.out, `${answer.consumerKey}\n`, { mode: 0o600 });
      if (values.json) {
        io.out(JSON.stringify({ ...(values.out ? { consumerKeyFile: values.out } : { consumerKey: answer.consumerKey }), validationUrl: answer.validationUrl, state: answer.state, rules }));
        return EXIT.ok;
      }
      io.out(`consumer key requested with ${rules.length} access rules (state: ${answer.state})`);
      io.out(values.out ? `consumer key written to ${values.out}: set "consumerKeyFile": "${values.out}" in the configuration` : `consumer key: ${answer.consumerKey}`);
      io.out(`validate it (log in with the OVHcloud account that owns the services): ${answer.validationUrl}`);
      io.out('then check it with: cutover ovh check --config FILE');
      return EXIT.ok;
    }

    case 'check': {
      const { status, expiration, missing, ok } = await checkCredential(await config());
      if (values.json) io.out(JSON.stringify({ status, expiration, missing, ok }));
      else {
        io.out(`consumer key: ${status}, expires ${expiration ?? 'never'}`);
        if (missing.length) io.out(`missing access rules (request a new key with: cutover ovh credential --config FILE): ${missing.map(ruleKey).join(', ')}`);
        else io.out('every access rule cutover needs is granted');
      }
      return ok ? EXIT.ok : EXIT.failed;
    }

    case 'domain-mode': {
      if (!values.platform || !values.domain || !values['non-authoritative']) throw usage('domain-mode needs --platform NAME --domain DOMAIN --non-authoritative');
      const domain = domainName.parse(values.domain);
      const connector = await app.connector((await platformByName(app.db, values.platform)).id);
      if (!(await connector.domainExists(domain))) throw new CutoverError('DOMAIN_UNKNOWN', { domain, platform: values.platform });
      const relay = values.relay ?? await connector.mailHost(domain);
      const { state } = await connector.attachDomain(domain, 'nonAuthoritative', relay);
      io.out(`${domain} on ${values.platform}: non-authoritative, unknown recipients relayed to ${relay} (state ${state === 'ok' ? 'ok' : 'still being applied'})`);
      return EXIT.ok;
    }

    case 'dns-status': {
      if (!values.platform || !values.domain) throw usage('dns-status needs --platform NAME --domain DOMAIN');
      const domain = domainName.parse(values.domain);
      const connector = await app.connector((await platformByName(app.db, values.platform)).id);
      if (!connector.dnsDiagnostic) throw new CutoverError('INPUT_INVALID', { detail: `platform ${values.platform} has no DNS diagnostic of its own` });
      const platform = await connector.dnsDiagnostic(domain);
      const report = await diagnoseMailDns(domain, await connector.expectedDns(domain), {
        resolvers: (values.nameserver ?? []).map(parseNameServer), authoritative: (values.authoritative ?? []).map(parseNameServer),
      });
      const dot = (v: boolean | null) => (v === null ? 'not reported' : v ? 'valid' : 'NOT valid');
      if (values.json) {
        io.out(JSON.stringify({ platform, cutover: { status: report.status, blocking: report.blocking, checks: report.checks } }));
        return EXIT.ok;
      }
      io.out(`${values.platform}'s own diagnostic (${platform.source}): MX ${dot(platform.mx)}, SPF ${dot(platform.spf)}, autodiscover SRV ${dot(platform.srv)}`);
      io.out('  (the control panel refreshes these every few hours; cutover asks the DNS now)');
      io.out(`cutover's checks: ${report.status}`);
      for (const line of formatReport(report)) io.out(`  ${line}`);
      return EXIT.ok;
    }

    default:
      throw usage(sub ? `unknown subcommand "${sub}"` : 'a subcommand is required');
  }
}
