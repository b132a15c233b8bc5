/**
 * Writes, into schemas/policy.schema.json, the parameters each built-in pack declares (policies/<pack>/policy.yaml),
 * as `if pack is agentguard:<pack> then params is …` under `include` items: editors then complete and check the
 * params of an include. The loader does not use this copy (it checks params against the installed pack itself);
 * test/policy-include-schema.test.ts fails while it is out of date.
 *
 *   npx tsx scripts/build-pack-params.ts            # rewrite
 *   npx tsx scripts/build-pack-params.ts --check    # exit 1 when out of date
 */
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCHEMA = `${ROOT}schemas/policy.schema.json`;

/** One `if`/`then` per pack that declares params, in folder order. */
export function packParamRules(): Array<Record<string, unknown>> {
  const packs = readdirSync(`${ROOT}policies`, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(`${ROOT}policies/${d.name}/policy.yaml`))
    .map((d) => d.name)
    .sort();
  const rules: Array<Record<string, unknown>> = [];
  for (const pack of packs) {
    const doc = parseYaml(readFileSync(`${ROOT}policies/${pack}/policy.yaml`, 'utf8')) as { params?: Record<string, Record<string, unknown>> };
    if (!doc.params) continue;
    rules.push({
      if: { type: 'object', required: ['pack'], properties: { pack: { pattern: `^agentguard:${pack}(?:@\\d+)?$` } } },
      then: { properties: { params: { type: 'object', additionalProperties: false, properties: doc.params } } },
    });
  }
  return rules;
}

const ITEMS = '"include": {';
const MARK = '"allOf": [';

/**
 * The schema text with the pack rules in place. Only the `allOf` of `include` items is written (the rest of the
 * file, kept by hand, is left byte for byte).
 */
export function schemaWithPackParams(text: string): string {
  const include = text.indexOf(ITEMS);
  const items = text.indexOf('"items": {', include);
  if (include === -1 || items === -1) throw new Error('schemas/policy.schema.json has no include.items');
  const indent = ' '.repeat(items - text.lastIndexOf('\n', items) - 1 + 2);
  const block = `${MARK.slice(0, -1)}${JSON.stringify(packParamRules(), null, 2).split('\n').join(`\n${indent}`)}`;
  const start = text.indexOf(MARK, items);
  const itemsEnd = closing(text, items + '"items": '.length);
  if (start !== -1 && start < itemsEnd) return text.slice(0, start) + block + text.slice(closing(text, start + MARK.length - 1) + 1);
  const open = items + '"items": {'.length;
  return `${text.slice(0, open)}\n${indent}${block},${text.slice(open)}`;
}

/** Index of the bracket that closes the one at `at` (strings skipped). */
function closing(text: string, at: number): number {
  let depth = 0;
  for (let i = at; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
    } else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return i;
    }
  }
  throw new Error('unbalanced JSON');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const text = readFileSync(SCHEMA, 'utf8');
  const fresh = schemaWithPackParams(text);
  if (process.argv.includes('--check')) {
    if (fresh !== text) {
      console.error('schemas/policy.schema.json: the packs\' parameters are out of date. Run: npx tsx scripts/build-pack-params.ts');
      process.exitCode = 1;
    }
  } else {
    writeFileSync(SCHEMA, fresh);
    console.error('schemas/policy.schema.json: pack parameters written');
  }
}
