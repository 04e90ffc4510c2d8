import { checkMailDns, formatReport } from '../../dns/mail-dns.ts';
import { parseNameServer, systemNameServers } from '../../dns/transport.ts';
import { done, waitUntil, type Step } from '../types.ts';

export const dnsCutover: Step = {
  id: 'dns-cutover',
  level: 'domain',
  title: 'Point MX and SPF at the destination',
  async run(ctx) {
    const domain = ctx.domain.name;
    const expected = await ctx.dest.expectedDns(domain);
    const servers = ctx.options.nameservers.length ? ctx.options.nameservers.map(parseNameServer) : systemNameServers();
    const report = await checkMailDns(domain, expected, servers);
    if (report.status === 'ok') return done(`MX and SPF of ${domain} point to the destination (asked ${report.server})`);
    // node-cron in the worker wakes waiting domains earlier when an admin asks for a check.
    return waitUntil(ctx.now() + ctx.options.dnsRecheckSeconds * 1000,
      `waiting for the DNS of ${domain} (change it, or confirm manually):\n${formatReport(report).join('\n')}`);
  },
};
