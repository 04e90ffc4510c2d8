import { ServerResolver } from '../dns/resolver.ts';
import { parseNameServer, systemNameServers } from '../dns/transport.ts';
import { EXCLUSION_REASONS, exclusionRule, mailboxExclusions } from '../groupware/exclusions.ts';
import { copyGroupware, type GroupwareReport } from '../groupware/index.ts';
import { dbGroupwareLedger } from '../groupware/ledger.ts';
import type { PlatformConnector } from '../plugins/contract.ts';
import { currentSourceAddress } from './endpoints.ts';
import { destLogin, sourceLogin } from './situation.ts';
import type { StepContext } from './types.ts';

/**
 * The DAV account is looked up under `davAddress`, the Sieve one under `mailAddress`: renaming the
 * old mail account (rename-source) moves its home, where Pigeonhole keeps the scripts, but not the
 * account of a DAV server beside it (Radicale, SOGo, Nextcloud keep their own users).
 */
async function sideFor(platform: PlatformConnector, mailAddress: string, davAddress: string, password: string | undefined, login: string | undefined) {
  const [dav, sieve] = await Promise.all([platform.davEndpoint?.(davAddress, password, login) ?? null, platform.sieveEndpoint?.(mailAddress, password, login) ?? null]);
  return { dav, sieve, domain: davAddress.slice(davAddress.lastIndexOf('@') + 1) };
}

/**
 * One groupware pass for a mailbox (the first copy, then each delta): contacts, calendars, tasks
 * and filters that both platforms offer, minus what the project options or the mailbox's own list
 * leave out (read at every pass: a change applies to the next one).
 */
export async function groupwarePass(ctx: StepContext): Promise<GroupwareReport> {
  const sourcePassword = ctx.mailbox.source_password_sealed ? ctx.box.open(ctx.mailbox.source_password_sealed) : undefined;
  const destPassword = ctx.mailbox.dest_password_sealed ? ctx.box.open(ctx.mailbox.dest_password_sealed) : undefined;
  const sourceAddress = await currentSourceAddress(ctx);
  const [source, dest] = await Promise.all([
    sideFor(ctx.source, sourceAddress, ctx.mailbox.address, sourcePassword, sourceLogin(ctx, sourceAddress)),
    sideFor(ctx.dest, ctx.mailbox.address, ctx.mailbox.address, destPassword, destLogin(ctx)),
  ]);
  const leftOut = exclusionRule(ctx.options.excludeCollections, await mailboxExclusions(ctx.db, ctx.mailbox.id));
  // The project's resolvers where it names some (as dns-cutover does), the system's otherwise.
  let resolver: ServerResolver | undefined;
  const servers = () => (ctx.options.nameservers.length ? ctx.options.nameservers.map(parseNameServer) : systemNameServers());
  return copyGroupware({
    source, dest, wanted: ctx.options.groupware, ledger: dbGroupwareLedger(ctx.db, ctx.mailbox.id), pass: Math.max(1, ctx.mailbox.sync_passes),
    excluded: (c) => {
      const by = leftOut(c);
      return by && EXCLUSION_REASONS[by];
    },
    // Only asked when a platform gives a DAV endpoint without a URL (RFC 6764 SRV discovery).
    lookup: { lookup: (name, type) => (resolver ??= new ServerResolver(servers())).lookup(name, type) },
  });
}
