import type { OvhConfig } from './config.ts';
import { pathSegment } from './signing.ts';

export interface AccessRule { method: 'GET' | 'POST' | 'PUT' | 'DELETE'; path: string }

function servicePrefix(config: OvhConfig): string | null {
  const service = config.service ? pathSegment(config.service) : '';
  switch (config.offer) {
    case 'exchange': return `/email/exchange/${pathSegment(config.organization ?? config.service!)}/service/${service}`;
    case 'pro': return `/email/pro/${service}`;
    case 'mxplan': return `/email/mxplan/${service}`;
    default: return null;
  }
}

/**
 * Exactly the calls the connector makes, as consumer-key access rules (`*` matches the rest of
 * a path). Read rules are narrowed to the service's own subtrees; writes name each operation.
 */
export function accessRules(config: OvhConfig): AccessRule[] {
  const rules: AccessRule[] = [];
  const add = (method: AccessRule['method'], path: string) => rules.push({ method, path });
  // `cutover ovh check` reads the key's own state and rules.
  add('GET', '/auth/currentCredential');
  const prefix = servicePrefix(config);
  if (prefix) {
    add('GET', prefix);
    add('GET', `${prefix}/domain/*`);
    add('GET', `${prefix}/account`);
    add('GET', `${prefix}/account/*`);
    add('GET', `${prefix}/task/*`);
    add('GET', `${prefix}/externalContact`);
    if (config.offer === 'exchange') add('GET', `${prefix}/mailingList`);
    if (config.offer !== 'mxplan') add('POST', `${prefix}/domain`);
    add('PUT', `${prefix}/domain/*`);
    // POST …/account is used only on dedicated Exchange offers; createWithPost: false leaves it out.
    if (config.offer === 'exchange' && config.createWithPost !== false) add('POST', `${prefix}/account`);
    add('PUT', `${prefix}/account/*`);
    add('POST', `${prefix}/account/*/changePassword`);
    add('POST', `${prefix}/account/*/alias`);
    add('DELETE', `${prefix}/account/*/alias/*`);
    add('DELETE', `${prefix}/account/*`);
  } else if (config.offer === 'mxplan-legacy') {
    add('GET', '/email/domain');
    add('GET', '/email/domain/*');
    add('POST', '/email/domain/*/account');
    add('POST', '/email/domain/*/account/*/changePassword');
    add('DELETE', '/email/domain/*/account/*');
  }
  if (config.zones || !config.offer) {
    add('GET', '/domain/zone');
    for (const zone of config.zones ?? ['*']) {
      const z = zone === '*' ? '*' : pathSegment(zone.toLowerCase().replace(/\.$/, ''));
      if (z !== '*') add('GET', `/domain/zone/${z}`);
      add('GET', `/domain/zone/${z}/*`);
      add('POST', `/domain/zone/${z}/record`);
      add('DELETE', `/domain/zone/${z}/record/*`);
      add('POST', `/domain/zone/${z}/refresh`);
    }
  }
  return rules;
}
