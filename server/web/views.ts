import { readFileSync } from 'node:fs';
import { projectRoot } from '../paths.ts';
import Handlebars from 'handlebars';

const viewsDir = `${projectRoot}/views/`;
const cache = new Map<string, Handlebars.TemplateDelegate>();

function template(name: string): Handlebars.TemplateDelegate {
  if (!cache.has(name)) cache.set(name, Handlebars.compile(readFileSync(`${viewsDir}${name}.hbs`, 'utf8'), { strict: false }));
  return cache.get(name)!;
}

/** Renders a view inside the main layout; Handlebars escapes every `{{value}}`, so data never becomes markup. */
export function render(view: string, model: Record<string, unknown>): string {
  return template('layouts/main')({ ...model, body: template(view)(model) });
}
