import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The OVHcloud API v1 descriptions (Swagger 1.2 style) as the fake's route table: which paths
 * and methods exist, which parameters each takes, which need authentication, and the exact
 * shape of every model an answer may carry.
 */

export const SCHEMA_FILES = ['auth', 'domain', 'email-domain', 'email-exchange', 'email-mxplan', 'email-pro'] as const;

interface RawParameter { name?: string; dataType: string; paramType: 'path' | 'query' | 'body'; required?: boolean; fullType?: string }
interface RawOperation { httpMethod: string; noAuthentication?: boolean; parameters: RawParameter[]; responseType: string }
interface RawProperty { type: string; fullType?: string; canBeNull?: boolean; readOnly?: boolean; required?: boolean }
export interface Model { id?: string; enum?: string[]; properties?: Record<string, RawProperty> }
interface RawSchema { apis: Array<{ path: string; operations: RawOperation[] }>; models: Record<string, Model> }

export interface Operation {
  method: string;
  template: string;
  file: string;
  noAuth: boolean;
  parameters: RawParameter[];
  responseType: string;
  regex: RegExp;
  pathParams: string[];
  /** Literal segments first: /email/domain/delegatedAccount beats /email/domain/{domain}. */
  literals: number;
}

export class SchemaError extends Error {
  constructor(readonly status: number, readonly body: Record<string, unknown>) {
    super(String(body.message));
  }
}

const badRequest = (message: string) => new SchemaError(400, { class: 'Client::BadRequest', message });

export class ApiSchema {
  readonly operations: Operation[] = [];
  readonly models = new Map<string, Model>();

  constructor(dir = fileURLToPath(new URL('./schemas/', import.meta.url))) {
    for (const file of SCHEMA_FILES) {
      const raw = JSON.parse(readFileSync(`${dir}/${file}.json`, 'utf8')) as RawSchema;
      for (const [name, model] of Object.entries(raw.models)) if (!this.models.has(name)) this.models.set(name, model);
      for (const api of raw.apis) {
        const pathParams: string[] = [];
        const pattern = api.path.split('/').map((seg) => {
          const m = /^\{(\w+)\}$/.exec(seg);
          if (!m) return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
          pathParams.push(m[1]!);
          return '([^/]+)';
        }).join('/');
        const literals = api.path.split('/').filter((s) => s && !s.startsWith('{')).length;
        for (const op of api.operations) {
          this.operations.push({ method: op.httpMethod, template: api.path, file, noAuth: Boolean(op.noAuthentication), parameters: op.parameters, responseType: op.responseType, regex: new RegExp(`^${pattern}$`), pathParams, literals });
        }
      }
    }
    this.operations.sort((a, b) => b.literals - a.literals);
  }

  /** The operation for a method and path (without /1.0), with its decoded path parameters. */
  match(method: string, path: string): { op: Operation; params: Record<string, string> } {
    let pathExists = false;
    for (const op of this.operations) {
      const m = op.regex.exec(path);
      if (!m) continue;
      pathExists = true;
      if (op.method !== method) continue;
      const params: Record<string, string> = {};
      op.pathParams.forEach((name, i) => { params[name] = decodeURIComponent(m[i + 1]!); });
      return { op, params };
    }
    if (pathExists) throw new SchemaError(405, { class: 'Client::MethodNotAllowed', message: `The requested method (${method}) is not allowed on this path` });
    throw new SchemaError(404, { class: 'Client::NotFound', message: 'Got an invalid (or empty) URL' });
  }

  /** Checks path, query and body against the operation's parameters like the API does (undescribed or missing parameters, wrong types). */
  validate(op: Operation, params: Record<string, string>, query: Record<string, string>, body: unknown): void {
    for (const p of op.parameters.filter((x) => x.paramType === 'path')) this.checkValue(p.name!, p.dataType, params[p.name!]!, true);
    const queryParams = new Map(op.parameters.filter((x) => x.paramType === 'query').map((p) => [p.name!, p]));
    const undescribedQuery = Object.keys(query).filter((k) => !queryParams.has(k));
    if (undescribedQuery.length) throw badRequest(`Received not described parameters: (${undescribedQuery.join(', ')}) while calling ${op.method} ${op.template}`);
    for (const [k, v] of Object.entries(query)) this.checkValue(k, queryParams.get(k)!.dataType, v, true);
    const bodyParams = op.parameters.filter((x) => x.paramType === 'body');
    if (!bodyParams.length) return;
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest('Invalid JSON received');
    const obj = body as Record<string, unknown>;
    const whole = bodyParams.find((p) => !p.name);
    if (whole) {
      this.checkObject(whole.dataType, obj, op.method === 'POST');
      return;
    }
    const named = new Map(bodyParams.map((p) => [p.name!, p]));
    const undescribed = Object.keys(obj).filter((k) => !named.has(k));
    if (undescribed.length) throw badRequest(`Received not described parameters: (${undescribed.join(', ')}) while calling ${op.method === 'POST' ? 'creation' : 'update'} handler`);
    const missing = bodyParams.filter((p) => p.required && (obj[p.name!] === undefined || obj[p.name!] === null)).map((p) => p.name);
    if (missing.length) throw badRequest(`Missing parameter(s): ${missing.join(', ')}`);
    for (const [k, v] of Object.entries(obj)) if (v !== null) this.checkValue(k, named.get(k)!.dataType, v, false);
  }

  private checkObject(modelName: string, obj: Record<string, unknown>, creation: boolean): void {
    const model = this.models.get(modelName);
    if (!model?.properties) return;
    const undescribed = Object.keys(obj).filter((k) => !(k in model.properties!));
    if (undescribed.length) throw badRequest(`Received not described parameters: (${undescribed.join(', ')}) while calling ${creation ? 'creation' : 'update'} handler`);
    if (creation) {
      const missing = Object.entries(model.properties).filter(([k, p]) => p.required && !p.readOnly && (obj[k] === undefined || obj[k] === null)).map(([k]) => k);
      if (missing.length) throw badRequest(`Missing parameter(s): ${missing.join(', ')}`);
    }
    for (const [k, v] of Object.entries(obj)) {
      const prop = model.properties[k]!;
      if (v === null) {
        if (!prop.canBeNull && !prop.readOnly) throw badRequest(`[${k}] Property cannot be null`);
        continue;
      }
      this.checkValue(k, prop.fullType ?? prop.type, v, false);
    }
  }

  private checkValue(name: string, type: string, value: unknown, fromString: boolean): void {
    const bad = () => badRequest(`[${name}] Given data (${String(value)}) is not valid for type ${type}`);
    if (type.endsWith('[]')) {
      if (fromString) return;
      if (!Array.isArray(value)) throw bad();
      for (const item of value) this.checkValue(name, type.slice(0, -2), item, false);
      return;
    }
    switch (type) {
      case 'long': case 'int': case 'double': {
        const n = fromString ? Number(value) : value;
        if (typeof n !== 'number' || !Number.isFinite(n) || (type !== 'double' && !Number.isInteger(n))) throw bad();
        return;
      }
      case 'boolean':
        if (fromString ? !['true', 'false'].includes(String(value)) : typeof value !== 'boolean') throw bad();
        return;
      case 'string': case 'password': case 'text': case 'phoneNumber': case 'ipBlock': case 'ip': case 'datetime': case 'date':
        if (typeof value !== 'string') throw bad();
        return;
      default: {
        const model = this.models.get(type);
        if (model?.enum) {
          if (!model.enum.includes(String(value))) throw badRequest(`[${name}] Given data (${String(value)}) does not belong to the ${type.split('.').pop()} enumeration`);
          return;
        }
        if (model?.properties && !fromString) {
          if (typeof value !== 'object' || Array.isArray(value)) throw bad();
          this.checkObject(type, value as Record<string, unknown>, false);
        }
      }
    }
  }

  /**
   * An answer shaped exactly like the model: every property present (defaults for those the
   * fake does not track), nothing the model does not declare. A handler that invents a field
   * fails loudly here instead of teaching the connector something the real API never sends.
   */
  shape(type: string, value: unknown): unknown {
    if (type === 'void') return null;
    if (type.endsWith('[]')) {
      if (!Array.isArray(value)) throw new Error(`fake OVH bug: ${type} answer is not an array`);
      return value.map((v) => this.shape(type.slice(0, -2), v));
    }
    const model = this.models.get(type);
    if (!model?.properties) return value;
    if (value === null || typeof value !== 'object') throw new Error(`fake OVH bug: ${type} answer is not an object`);
    const given = value as Record<string, unknown>;
    const extra = Object.keys(given).filter((k) => !(k in model.properties!));
    if (extra.length) throw new Error(`fake OVH bug: ${type} has no ${extra.join(', ')}`);
    const out: Record<string, unknown> = {};
    for (const [k, prop] of Object.entries(model.properties)) {
      const v = given[k];
      out[k] = v === undefined ? this.defaultFor(prop) : v === null ? null : this.shape(prop.fullType ?? prop.type, v);
    }
    return out;
  }

  private defaultFor(prop: RawProperty): unknown {
    if (prop.canBeNull) return null;
    const type = prop.fullType ?? prop.type;
    if (type.endsWith('[]')) return [];
    if (['long', 'int', 'double'].includes(type)) return 0;
    if (type === 'boolean') return false;
    if (['string', 'password', 'text'].includes(type)) return '';
    if (type === 'datetime') return new Date(0).toISOString();
    const model = this.models.get(type);
    if (model?.enum) return model.enum[0];
    if (model?.properties) return this.shape(type, {});
    return null;
  }
}
