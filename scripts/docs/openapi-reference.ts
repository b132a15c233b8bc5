/**
 * Renders the sidecar's OpenAPI document as Markdown: each operation (grouped by tag) with its summary, description,
 * authentication, parameters, request body and responses, then each shared schema as a table of fields. Nested
 * objects are flattened into dotted rows (`usage.model`), so one table shows a whole body.
 */
import GithubSlugger from 'github-slugger';
import { escapeText } from './schema-reference.js';

type Schema = Record<string, unknown>;
const isObject = (v: unknown): v is Schema => v !== null && typeof v === 'object' && !Array.isArray(v);
const METHODS = ['get', 'put', 'post', 'patch', 'delete'] as const;

interface Operation {
  method: string;
  path: string;
  op: Schema;
}

export function renderOpenApiReference(doc: Schema, options: { level?: number } = {}): string {
  const level = options.level ?? 3;
  const h = (n: number, text: string): string => `${'#'.repeat(level + n)} ${text}`;
  const components = isObject(doc.components) && isObject(doc.components.schemas) ? doc.components.schemas : {};
  const paths = isObject(doc.paths) ? doc.paths : {};
  const tags = (Array.isArray(doc.tags) ? doc.tags : []).filter(isObject);

  const operations: Operation[] = Object.entries(paths).flatMap(([path, item]) =>
    METHODS.filter((m) => isObject(item) && isObject(item[m])).map((method) => ({ method, path, op: (item as Schema)[method] as Schema })),
  );
  const tagOf = (o: Operation): string => (Array.isArray(o.op.tags) && typeof o.op.tags[0] === 'string' ? o.op.tags[0] : 'other');
  const groups = [...new Set([...tags.map((t) => String(t.name)), ...operations.map(tagOf)])].filter((t) => operations.some((o) => tagOf(o) === t));

  // Anchors as GitHub makes them, in the order the headings appear below.
  const slugger = new GithubSlugger();
  const headings: string[] = [];
  for (const group of groups) {
    headings.push(groupTitle(group));
    for (const o of operations.filter((x) => tagOf(x) === group)) headings.push(operationTitle(o));
  }
  headings.push('Schemas', ...Object.keys(components));
  const anchors = new Map(headings.map((t) => [t, slugger.slug(t)]));
  const schemaLink = (name: string): string => (anchors.has(name) && name in components ? `[${name}](#${anchors.get(name)})` : `\`${name}\``);

  const refName = (ref: string): string => ref.replace(/^#\/components\/schemas\//, '').replace(/#$/, '');
  const typeOf = (s: unknown): string => {
    if (!isObject(s) || Object.keys(s).length === 0) return 'any';
    if (typeof s.$ref === 'string') return schemaLink(refName(s.$ref));
    if ('const' in s) return `\`${JSON.stringify(s.const)}\``;
    if (Array.isArray(s.enum)) return `one of ${s.enum.map((v) => `\`${String(v)}\``).join(', ')}`;
    const alternatives = (s.anyOf ?? s.oneOf) as unknown[] | undefined;
    if (Array.isArray(alternatives)) return alternatives.map(typeOf).join(' or ');
    if (s.type === 'array') return `list of ${typeOf(s.items)}`;
    if (Array.isArray(s.type)) return s.type.join(' or ');
    return typeof s.type === 'string' ? s.type : 'any';
  };

  const out: string[] = [];
  for (const group of groups) {
    const tag = tags.find((t) => t.name === group);
    out.push(h(0, groupTitle(group)), '');
    if (typeof tag?.description === 'string') out.push(`${escapeText(tag.description)}.`.replace(/\.\.$/, '.'), '');
    for (const o of operations.filter((x) => tagOf(x) === group)) {
      out.push(h(1, operationTitle(o)), '');
      const summary = typeof o.op.summary === 'string' ? `**${escapeText(o.op.summary)}.** ` : '';
      const auth = Array.isArray(o.op.security) && o.op.security.length > 0 ? 'Needs `Authorization: Bearer <token>`.' : 'No token.';
      out.push(`${summary}${auth}`, '');
      if (typeof o.op.description === 'string') out.push(escapeText(o.op.description), '');
      const params = (Array.isArray(o.op.parameters) ? o.op.parameters : []).filter(isObject);
      if (params.length > 0) {
        out.push('| parameter | in | type | required | description |', '| --- | --- | --- | --- | --- |');
        for (const p of params) out.push(row([`\`${String(p.name)}\``, String(p.in), typeOf(p.schema), p.required ? 'yes' : '', describe({ ...(isObject(p.schema) ? p.schema : {}), description: p.description })]));
        out.push('');
      }
      const body = bodySchema(o.op.requestBody);
      if (body) out.push(...bodyLines('Request body', body.schema, body.type, typeOf), '');
      const responses = isObject(o.op.responses) ? o.op.responses : {};
      out.push('| status | meaning | body |', '| --- | --- | --- |');
      for (const [status, response] of Object.entries(responses)) {
        if (!isObject(response)) continue;
        const content = bodySchema(response);
        const shape = content ? (isObject(content.schema) && content.schema.type === 'object' && !content.schema.$ref ? fields(content.schema, typeOf).map((r) => `\`${r[0]}\``).join(', ') || 'object' : typeOf(content.schema)) : '';
        out.push(row([status, escapeText(String(response.description ?? '')), content && content.type !== 'application/json' ? `${shape} (${content.type})` : shape]));
      }
      out.push('');
    }
  }
  out.push(h(0, 'Schemas'), '');
  for (const [name, schema] of Object.entries(components)) {
    if (!isObject(schema)) continue;
    out.push(h(1, name), '');
    if (typeof schema.description === 'string') out.push(escapeText(schema.description), '');
    out.push(...fieldTable(schema, typeOf), '');
  }
  return out.join('\n').replace(/\n{3,}/g, '\n\n');
}

function groupTitle(tag: string): string {
  return `${tag[0].toUpperCase()}${tag.slice(1)}`;
}

function operationTitle(o: Operation): string {
  return `${o.method.toUpperCase()} ${o.path}`;
}

function bodySchema(holder: unknown): { type: string; schema: unknown } | undefined {
  if (!isObject(holder) || !isObject(holder.content)) return undefined;
  const [type, media] = Object.entries(holder.content)[0] ?? [];
  return type && isObject(media) ? { type, schema: media.schema } : undefined;
}

function bodyLines(title: string, schema: unknown, type: string, typeOf: (s: unknown) => string): string[] {
  const media = type === 'application/json' ? '' : ` (${type})`;
  if (!isObject(schema) || schema.$ref || schema.type !== 'object') return [`${title}${media}: ${typeOf(schema)}.`];
  return [`${title}${media}:`, '', ...fieldTable(schema, typeOf)];
}

function fieldTable(schema: Schema, typeOf: (s: unknown) => string): string[] {
  const rows = fields(schema, typeOf);
  if (rows.length === 0) return [`Type: ${typeOf(schema)}.`];
  return ['| field | type | required | description |', '| --- | --- | --- | --- |', ...rows.map(([name, type, required, text]) => row([`\`${name}\``, type, required, text]))];
}

/** Rows `[dotted name, type, required, description]`, nested objects flattened (lists of objects as `name[].field`). */
function fields(schema: Schema, typeOf: (s: unknown) => string, prefix = '', depth = 0): string[][] {
  const props = isObject(schema.properties) ? schema.properties : {};
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  return Object.entries(props).flatMap(([name, prop]) => {
    const p = isObject(prop) ? prop : {};
    const dotted = `${prefix}${name}`;
    const own = [dotted, typeOf(p), required.has(name) ? 'yes' : '', describe(p)];
    if (depth >= 3 || p.$ref) return [own];
    if (p.type === 'object' && isObject(p.properties)) return [own, ...fields(p, typeOf, `${dotted}.`, depth + 1)];
    if (p.type === 'array' && isObject(p.items) && !p.items.$ref && isObject(p.items.properties)) return [own, ...fields(p.items, typeOf, `${dotted}[].`, depth + 1)];
    return [own];
  });
}

function describe(s: Schema): string {
  const parts = [typeof s.description === 'string' ? escapeText(s.description) : ''];
  if ('default' in s) parts.push(`Default: \`${JSON.stringify(s.default)}\`.`);
  if (typeof s.pattern === 'string') parts.push(`Pattern: \`${s.pattern}\`.`);
  if (typeof s.maxLength === 'number') parts.push(`At most ${s.maxLength.toLocaleString('en-US')} characters.`);
  if (typeof s.maxItems === 'number') parts.push(`At most ${s.maxItems.toLocaleString('en-US')} items.`);
  if (typeof s.minimum === 'number' || typeof s.maximum === 'number') {
    const n = (v: unknown, none: string): string => (typeof v === 'number' ? v.toLocaleString('en-US') : none);
    parts.push(`Between ${n(s.minimum, '−∞')} and ${n(s.maximum, '∞')}.`);
  }
  return parts.filter(Boolean).join(' ');
}

function row(cells: string[]): string {
  return `| ${cells.map((c) => c.replace(/\|/g, '\\|').replace(/\n+/g, ' ')).join(' | ')} |`;
}
