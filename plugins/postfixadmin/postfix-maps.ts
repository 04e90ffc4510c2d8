// The Postfix side of a non-authoritative domain: the lookups a Postfix in front of a
// PostfixAdmin host needs so that recipients it does not hold yet go on to the old host
// (README, postfixadmin: "Non-authoritative domains"). The test Postfix
// (server/devservers/postfix.ts) runs exactly these, and the README quotes them.

/** An address is held here when it is an active mailbox. */
const HELD_HERE = `SELECT 1 FROM mailbox WHERE username = '%s' AND active = '1'`;

export interface PostfixMap {
  /** The main.cf parameter it serves. */
  parameter: string;
  /** The sqlite_table(5) file's name. */
  file: string;
  query: string;
}

/** PostfixAdmin's usual virtual lookups; with a relay table, what a relayed domain needs on top. */
export function postfixMaps(relayTable: string | null = 'cutover_domain_relay'): PostfixMap[] {
  const domains = { parameter: 'virtual_mailbox_domains', file: 'domains.cf', query: `SELECT domain FROM domain WHERE domain = '%s' AND active = '1'` };
  const aliases = { parameter: 'virtual_alias_maps', file: 'aliases.cf', query: `SELECT goto FROM alias WHERE address = '%s' AND active = '1'` };
  const mailboxes = { parameter: 'virtual_mailbox_maps', file: 'mailboxes.cf', query: `SELECT maildir FROM mailbox WHERE username = '%s' AND active = '1'` };
  if (relayTable === null) return [domains, aliases, mailboxes];
  const relayedHere = `FROM ${relayTable} WHERE domain = '%d' AND NOT EXISTS (${HELD_HERE})`;
  return [
    domains,
    aliases,
    // Answers for every address of a relayed domain, so smtpd's unlisted-recipient check lets
    // them through to the transport and verification below instead of "User unknown".
    { ...mailboxes, query: `${mailboxes.query} UNION SELECT 'relayed' ${relayedHere}` },
    // '%d' suppresses the bare-domain lookup, which would otherwise send held addresses away too.
    { parameter: 'transport_maps', file: 'relay-transport.cf', query: `SELECT 'smtp:[' || relay_host || ']' ${relayedHere}` },
    // The old host answers the probe at RCPT: an address unknown on both hosts is refused now, not bounced later.
    { parameter: 'smtpd_recipient_restrictions', file: 'relay-recipient-access.cf', query: `SELECT 'reject_unverified_recipient' ${relayedHere}` },
  ];
}

/** main.cf lines using the maps in `mapDir`; `deliverTo` is the virtual_transport (Dovecot's LMTP). */
export function postfixMainCf(mapDir: string, deliverTo: string, maps: PostfixMap[]): string[] {
  const lookup = (parameter: string) => maps.filter((m) => m.parameter === parameter).map((m) => `sqlite:${mapDir}/${m.file}`);
  const access = lookup('smtpd_recipient_restrictions').map((table) => `, check_recipient_access ${table}`).join('');
  const lines = [
    `virtual_mailbox_domains = ${lookup('virtual_mailbox_domains').join(', ')}`,
    `virtual_alias_maps = ${lookup('virtual_alias_maps').join(', ')}`,
    `virtual_mailbox_maps = ${lookup('virtual_mailbox_maps').join(', ')}`,
    `virtual_transport = ${deliverTo}`,
    `smtpd_recipient_restrictions = reject_unauth_destination${access}`,
  ];
  const transport = lookup('transport_maps');
  if (transport.length) lines.push(`transport_maps = ${transport.join(', ')}`, 'unverified_recipient_reject_code = 550');
  return lines;
}

/** A sqlite_table(5) file for `map`. */
export function sqliteMapFile(dbPath: string, map: PostfixMap): string {
  return `dbpath = ${dbPath}\nquery = ${map.query}\n`;
}
