/**
 * Renders a JSON Schema (draft-07, as the policy and policy-test schemas are written) as Markdown reference tables:
 * one section per object (the root, each definition, each object nested in a property), one row per property with
 * its type, whether it is required, and its description, default and limits. The docs' reference sections are this
 * output, so they cannot say something the schema does not.
 */
import GithubSlugger from 'github-slugger';

type Schema = Record<string, unknown>;

interface Section {
  /** Heading text, e.g. `Policy: rule`. */
  title: string;
  schema: Schema;
}

export interface SchemaReferenceOptions {
  /** Prefix of every heading, e.g. `Policy`; headings read `Policy: rule`. */
  prefix: string;
  /** Heading level of the sections (default 3). */
  level?: number;
  /** Heading of the root object (default `<prefix> file`). */
  rootTitle?: string;
}

const isObject = (v: unknown): v is Schema => v !== null && typeof v === 'object' && !Array.isArray(v);

export function renderSchemaReference(root: Schema, options: SchemaReferenceOptions): string {
  const level = options.level ?? 3;
  const definitions = isObject(root.definitions) ? root.definitions : {};
  const sections: Section[] = [];
  const sectionOf = new Map<Schema, Section>();
  const refTitle = (name: string): string => `${options.prefix}: ${name}`;

  // Sections in reading order: the root, then each definition, each followed by the objects nested in it.
  const add = (title: string, schema: Schema): void => {
    const section = { title, schema };
    sections.push(section);
    sectionOf.set(schema, section);
    const path = title === rootTitle ? '' : `${title.slice(refTitle('').length)}.`;
    for (const [name, prop] of Object.entries(propertiesOf(schema))) {
      if (isObject(prop) && hasOwnFields(prop)) add(refTitle(`${path}${name}`), prop);
      const values = isObject(prop) ? prop.additionalProperties : undefined;
      if (isObject(values) && hasOwnFields(values)) add(refTitle(`${path}${name} entry`), values);
      const items = isObject(prop) && prop.type === 'array' ? prop.items : undefined;
      if (isObject(items) && hasOwnFields(items)) add(refTitle(`${path}${name} item`), items);
    }
  };
  const rootTitle = options.rootTitle ?? `${options.prefix} file`;
  add(rootTitle, root);
  for (const [name, def] of Object.entries(definitions)) if (isObject(def)) add(refTitle(name), def);

  // Anchors as GitHub makes them; the sections are the only headings of their kind on the page, so a fresh slugger
  // gives the same slug as the page's (the docs-links test checks every link).
  const slugger = new GithubSlugger();
  const anchor = new Map(sections.map((s) => [s, slugger.slug(s.title)]));
  const link = (s: Section): string => `[${s.title.split(': ').pop()}](#${anchor.get(s)})`;
  const refLink = (ref: string): string => {
    const name = ref.replace('#/definitions/', '');
    const def = definitions[name];
    const section = isObject(def) ? sectionOf.get(def) : undefined;
    return section ? link(section) : `\`${name}\``;
  };

  const typeOf = (s: unknown): string => {
    if (!isObject(s) || Object.keys(s).length === 0) return 'any';
    if (typeof s.$ref === 'string') return refLink(s.$ref);
    const own = sectionOf.get(s);
    if (own) return link(own);
    if ('const' in s) return `\`${JSON.stringify(s.const)}\``;
    if (Array.isArray(s.enum)) return `one of ${s.enum.map((v) => `\`${String(v)}\``).join(', ')}`;
    const alternatives = (s.anyOf ?? s.oneOf) as unknown[] | undefined;
    if (Array.isArray(alternatives) && !s.type) return alternatives.map(typeOf).join(' or ');
    if (s.type === 'array') return `list of ${typeOf(s.items)}`;
    if (s.type === 'object' && isObject(s.additionalProperties)) return `map of name → ${typeOf(s.additionalProperties)}`;
    if (Array.isArray(s.type)) return s.type.join(' or ');
    return typeof s.type === 'string' ? s.type : 'any';
  };

  const limitsOf = (s: Schema): string[] => {
    const out: string[] = [];
    if ('default' in s) out.push(`Default: \`${JSON.stringify(s.default)}\`.`);
    if (typeof s.pattern === 'string') out.push(`Pattern: \`${s.pattern}\`.`);
    const range = (min: unknown, max: unknown, unit: string, plural = `${unit}s`): void => {
      const units = (n: number): string => `${n.toLocaleString('en-US')} ${n === 1 ? unit : plural}`;
      if (typeof min === 'number' && typeof max === 'number') out.push(`${min.toLocaleString('en-US')}–${units(max)}.`);
      else if (typeof min === 'number') out.push(`At least ${units(min)}.`);
      else if (typeof max === 'number') out.push(`At most ${units(max)}.`);
    };
    range(s.minLength, s.maxLength, 'character');
    range(s.minItems, s.maxItems, 'item');
    range(s.minProperties, s.maxProperties, 'entry', 'entries');
    if (typeof s.minimum === 'number' || typeof s.maximum === 'number') {
      const n = (v: unknown, none: string): string => (typeof v === 'number' ? v.toLocaleString('en-US') : none);
      out.push(`Between ${n(s.minimum, '−∞')} and ${n(s.maximum, '∞')}.`);
    }
    return out;
  };

  const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n+/g, ' ');
  const describe = (s: Schema): string => [typeof s.description === 'string' ? escapeText(s.description) : '', ...limitsOf(s)].filter(Boolean).join(' ').replace(/\n+/g, ' ');

  const out: string[] = [];
  for (const section of sections) {
    const s = section.schema;
    out.push(`${'#'.repeat(level)} ${section.title}`, '');
    const intro = [typeof s.description === 'string' ? escapeText(s.description) : '', ...limitsOf(s).filter((l) => !l.startsWith('Pattern') || !propertiesOf(s))];
    if (section.title === rootTitle || hasOwnFields(s)) {
      if (intro.some(Boolean)) out.push(intro.filter(Boolean).join(' '), '');
    }
    const rules = conditionalRules(s);
    const branches = (s.oneOf ?? s.anyOf) as unknown[] | undefined;
    if (Object.keys(propertiesOf(s)).length > 0) {
      out.push(...propertyTable(s, typeOf, (p) => cell(describe(p))), '');
    } else if (Array.isArray(branches) && branches.every((b) => isObject(b) && isObject(b.properties))) {
      out.push('Exactly one of these forms:', '');
      for (const branch of branches as Schema[]) {
        const key = (branch.required as string[] | undefined)?.[0] ?? Object.keys(propertiesOf(branch))[0];
        out.push(`- \`${key}\`: ${propertyList(branch, typeOf, describe)}`);
      }
      out.push('');
    } else {
      out.push(`Type: ${typeOf({ ...s, description: undefined }).replace(/^any$/, typeof s.type === 'string' ? s.type : 'any')}. ${describe(s)}`.trim(), '');
    }
    if (isObject(s.propertyNames) || (isObject(s.additionalProperties) && Object.keys(propertiesOf(s)).length > 0)) {
      const names = isObject(s.propertyNames) ? typeOf(s.propertyNames).replace(/^any of /, '') : 'any name';
      const other = isObject(s.additionalProperties) ? typeOf(s.additionalProperties) : undefined;
      if (other) out.push(`Other keys: ${names.includes('one of') ? names : `a ${names}`}, each with a value of type ${other}.`, '');
    }
    if (s.additionalProperties === false) out.push('Other keys are refused.', '');
    if (isObject(s.not) && Array.isArray(s.not.required)) out.push(`${s.not.required.map((k) => `\`${String(k)}\``).join(' and ')} cannot be given together.`, '');
    out.push(...rules.map((r) => `${r}`), ...(rules.length > 0 ? [''] : []));
  }
  return out.join('\n').replace(/\n{3,}/g, '\n\n');
}

/** Schema descriptions are plain text: `*` and `<` must not start emphasis or HTML (`'**[!A-Za-z0-9-]**'`, `<EMAIL_ADDRESS>`). Code spans stay as written. */
export function escapeText(text: string): string {
  return text.split(/(`[^`]*`)/).map((part, i) => (i % 2 === 1 ? part : part.replace(/[*<]/g, '\\$&'))).join('');
}

function propertiesOf(s: Schema): Record<string, unknown> {
  return isObject(s.properties) ? s.properties : {};
}

/** An object with fields of its own gets a section (a bare `{ type: object }` does not). */
function hasOwnFields(s: Schema): boolean {
  return Object.values(propertiesOf(s)).some((p) => isObject(p) && Object.keys(p).length > 0) || (Object.keys(propertiesOf(s)).length > 0 && s.additionalProperties === false);
}

function propertyTable(s: Schema, typeOf: (s: unknown) => string, describe: (s: Schema) => string): string[] {
  const required = new Set(Array.isArray(s.required) ? (s.required as string[]) : []);
  const rows = Object.entries(propertiesOf(s)).map(([name, prop]) => {
    const p = isObject(prop) ? prop : {};
    return `| \`${name}\` | ${typeOf(p)} | ${required.has(name) ? 'yes' : ''} | ${describe(p)} |`;
  });
  return ['| field | type | required | description |', '| --- | --- | --- | --- |', ...rows];
}

function propertyList(s: Schema, typeOf: (s: unknown) => string, describe: (s: Schema) => string): string {
  const required = new Set(Array.isArray(s.required) ? (s.required as string[]) : []);
  const parts = Object.entries(propertiesOf(s)).map(([name, prop]) => {
    const p = isObject(prop) ? prop : {};
    const text = describe(p);
    return `\`${name}\`${required.has(name) ? '' : ' (optional)'} ${typeOf(p)}${text ? ` (${text.replace(/\.$/, '')})` : ''}`;
  });
  const extra = Array.isArray(s.anyOf) ? ` At least one of ${(s.anyOf as Schema[]).map((b) => (b.required as string[]).map((k) => `\`${k}\``).join(', ')).join(' or ')}.` : '';
  return `${parts.join('; ')}.${extra}`;
}

/** `if effect = transform then transform is required, else it is refused`, in words. */
function conditionalRules(s: Schema): string[] {
  const cond = isObject(s.if) ? s.if : undefined;
  if (!cond || !isObject(cond.properties)) return [];
  const [[field, test]] = Object.entries(cond.properties) as Array<[string, Schema]>;
  if (!isObject(test) || !('const' in test)) return [];
  const when = `When \`${field}\` is \`${String(test.const)}\``;
  const out: string[] = [];
  const then = isObject(s.then) && Array.isArray(s.then.required) ? (s.then.required as string[]) : [];
  const otherwise = isObject(s.else) && isObject(s.else.not) && Array.isArray(s.else.not.required) ? (s.else.not.required as string[]) : [];
  if (then.length > 0) out.push(`${when}, ${then.map((k) => `\`${k}\``).join(' and ')} is required${otherwise.join() === then.join() ? '; otherwise it is refused' : ''}.`);
  return out;
}
