// The row of DNS dots, as the Domains page draws it and as a host panel can draw it in its own
// domain list: `renderDnsDots(dots, 'fr')` gives escaped HTML, one dot per kind of check with its
// text label (the colour alone never carries the meaning). The classes are the panel's
// (`dot ok|warn|error|unknown`); a host panel styles them as it likes.
import Handlebars from 'handlebars';
import type { DnsDot } from '../dns/dots.ts';
import { isLanguage, t, type Language } from './i18n.ts';

const esc = Handlebars.Utils.escapeExpression;

export function renderDnsDots(dots: DnsDot[], lang: Language | string = 'en'): string {
  const l: Language = isLanguage(lang) ? lang : 'en';
  const items = dots.map((dot) => {
    const kind = t(l, `dns.kind.${dot.kind}`);
    const status = t(l, dot.checked ? `dns.status.${dot.status}` : 'dns.status.none');
    return `<span class="dns-dot" data-kind="${esc(dot.kind)}" data-status="${esc(dot.status)}" title="${esc(`${kind}: ${status}`)}"><span class="dot ${esc(dot.status)}" aria-hidden="true"></span> <span class="dot-label">${esc(kind)}<span class="visually-hidden">: ${esc(status)}</span></span></span>`;
  });
  return `<span class="dns-dots">${items.join(' ')}</span>`;
}
