import { readFileSync } from 'node:fs';
import { projectRoot } from '../paths.ts';
import Handlebars from 'handlebars';
import { isLanguage, t } from './i18n.ts';
import { renderDnsDots } from './dns-dots.ts';
import { checkText } from './check-words.ts';
import { durationText, isStoredTime, sentenceWithTimes, timeHtml } from './times.ts';

const viewsDir = `${projectRoot}/views/`;
const cache = new Map<string, Handlebars.TemplateDelegate>();
const hbs = Handlebars.create();

// {{t "key" name=value}}: the word in the page's language (the model's `lang`), escaped like any value.
// A parameter that is a stored time (ISO string) is shown as a time inside the sentence, in the
// admin's language and zone, relative when recent (times.ts); the rest of the sentence is escaped.
hbs.registerHelper('t', function (key: string, options: Handlebars.HelperOptions) {
  const root = options.data?.root;
  const lang = isLanguage(root?.lang) ? root.lang : 'en';
  const hash: Record<string, unknown> = options.hash ?? {};
  if (!Object.values(hash).some(isStoredTime)) return t(lang, key, hash as Record<string, string | number>);
  return new hbs.SafeString(sentenceWithTimes(lang, (params) => t(lang, key, params), hash, root?.timeZone));
});
// {{dnsDots dots}}: the row of DNS dots (see dns-dots.ts), already escaped.
hbs.registerHelper('dnsDots', function (dots: Parameters<typeof renderDnsDots>[0], options: Handlebars.HelperOptions) {
  return new hbs.SafeString(renderDnsDots(dots ?? [], options.data?.root?.lang));
});
// {{checkText found}}: a DNS check's English phrase in the page's language (see check-words.ts).
hbs.registerHelper('checkText', function (text: string, options: Handlebars.HelperOptions) {
  const lang = options.data?.root?.lang;
  return checkText(isLanguage(lang) ? lang : 'en', text);
});
// {{time at}}: a stored time (ISO or epoch ms) as <time>, relative when recent, absolute on hover;
// {{duration ms}}: a length of time in words. In the page's language.
hbs.registerHelper('time', function (value: unknown, options: Handlebars.HelperOptions) {
  const lang = options.data?.root?.lang;
  return new hbs.SafeString(timeHtml(isLanguage(lang) ? lang : 'en', value, Date.now(), options.data?.root?.timeZone));
});
hbs.registerHelper('duration', function (ms: unknown, options: Handlebars.HelperOptions) {
  const lang = options.data?.root?.lang;
  return durationText(isLanguage(lang) ? lang : 'en', Number(ms));
});
hbs.registerHelper('eq', (a: unknown, b: unknown) => a === b);
hbs.registerHelper('gt', (a: unknown, b: unknown) => Number(a) > Number(b));
hbs.registerHelper('lt', (a: unknown, b: unknown) => Number(a) < Number(b));
hbs.registerHelper('plus', (a: unknown, b: unknown) => Number(a) + Number(b));
hbs.registerHelper('minus', (a: unknown, b: unknown) => Number(a) - Number(b));
// {{t (concat "state." state)}}: builds a key from parts (the last argument is Handlebars' options).
hbs.registerHelper('concat', (...parts: unknown[]) => parts.slice(0, -1).join(''));

function template(name: string): Handlebars.TemplateDelegate {
  if (!cache.has(name)) cache.set(name, hbs.compile(readFileSync(`${viewsDir}${name}.hbs`, 'utf8'), { strict: false }));
  return cache.get(name)!;
}

/** Renders a view inside the main layout; Handlebars escapes every `{{value}}`, so data never becomes markup. */
export function render(view: string, model: Record<string, unknown>): string {
  return template('layouts/main')({ ...model, body: template(view)(model) });
}
