// The DNS checks (server/dns/checks) speak English, also on the command line. On a French page,
// their recurring phrases are put in French here; what they quote (records, host names, counts,
// the servers' own answers) stays as it is. Ordered: longer phrases before their parts.
import type { Language } from './i18n.ts';

const FR: Array<[RegExp, string]> = [
  [/^MX hosts$/, 'Hôtes MX'],
  [/^SPF limits$/, 'Limites SPF'],
  [/^Resolvers$/, 'Résolveurs'],
  [/^every MX host has an address and is not a CNAME$/, 'chaque hôte MX a une adresse et n’est pas un CNAME'],
  [/^one v=DMARC1 record with a policy \(p=none, quarantine or reject\)$/, 'un seul enregistrement v=DMARC1 avec une politique (p=none, quarantine ou reject)'],
  [/^at most (\d+) DNS lookups and (\d+) void lookups, no loop, valid syntax$/, 'au plus $1 requêtes DNS et $2 requêtes sans réponse, sans boucle, syntaxe valide'],
  [/publish exactly: /g, 'publier exactement : '],
  [/(^| — )remove: /g, '$1supprimer : '],
  [/\(p=none only monitors; tighten to quarantine or reject once reports are clean\)/, '(p=none ne fait qu’observer ; passez à quarantine ou reject quand les rapports sont propres)'],
  [/^publish the DKIM key of selector (\S+) at /, 'publier la clé DKIM du sélecteur $1 à '],
  [/^keep one record at (\S+): receivers ignore DMARC when there are several$/, 'ne garder qu’un enregistrement à $1 : les destinataires ignorent DMARC quand il y en a plusieurs'],
  [/^correct the record at (\S+): /, 'corriger l’enregistrement à $1 : '],
  [/^correct the record \(receivers reject all of it\): /, 'corriger l’enregistrement (les destinataires le rejettent en entier) : '],
  [/^point the MX records at host names with A\/AAAA records \(not aliases\): /, 'faire pointer les MX vers des noms d’hôtes ayant des enregistrements A/AAAA (pas des alias) : '],
  [/^check the servers that do not answer \((.*)\), or confirm by hand$/, 'vérifier les serveurs qui ne répondent pas ($1), ou confirmer à la main'],
  [/^fix or remove the lame server\(s\) from the zone's NS set: /, 'réparer ou retirer de la liste NS de la zone le(s) serveur(s) sans autorité : '],
  [/^authoritative: (\d+)\/(\d+) updated/, 'autoritaires : $1/$2 à jour'],
  [/, (\d+) not answering/, ', $1 sans réponse'],
  [/, (\d+) lame$/, ', $1 sans autorité'],
  [/^resolvers: (\d+)\/(\d+) seeing the new records/, 'résolveurs : $1/$2 voient les nouveaux enregistrements'],
  [/^(\d+)\/(\d+) DNS lookups, (\d+)\/(\d+) void/, '$1/$2 requêtes DNS, $3/$4 sans réponse'],
  [/^the merged record would need (\d+)\/10 DNS lookups/, 'l’enregistrement fusionné demanderait $1/10 requêtes DNS'],
  [/: too many, flatten it$/, ' : trop, aplatissez-le'],
  [/^serials differ \((.*)\): a server has not loaded the latest version of the zone yet$/, 'les numéros de série diffèrent ($1) : un serveur n’a pas encore chargé la dernière version de la zone'],
  [/^worst-case ETA /, 'au pire dans '],
  [/^once the authoritative servers are updated, up to (.*) more$/, 'une fois les serveurs autoritaires à jour, jusqu’à $1 de plus'],
  [/^no answer$/, 'pas de réponse'],
  [/^no such name$/, 'nom inexistant'],
  [/^no A\/AAAA record$/, 'pas d’enregistrement A/AAAA'],
  [/^answers without authority \(AA=0\): it does not serve the zone$/, 'répond sans autorité (AA=0) : il ne sert pas la zone'],
  [/^has no SOA for the zone$/, 'n’a pas de SOA pour la zone'],
  [/^a null MX \("0 \."\, RFC 7505\) says the domain accepts no mail at all$/, 'un MX nul (« 0 . », RFC 7505) dit que le domaine n’accepte aucun courrier'],
  [/^\(none\)$/, '(aucun)'],
];

export function checkText(lang: Language, text: string): string {
  if (lang !== 'fr' || typeof text !== 'string') return text;
  return FR.reduce((out, [pattern, replacement]) => out.replace(pattern, replacement), text);
}
