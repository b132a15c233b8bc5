/**
 * Writes the reference part of docs/policy-language.md from the JSON Schemas that ship in the package: policies and
 * policy test files (schemas/policy.schema.json, schemas/policy-test.schema.json), the Action a policy sees and the
 * Decision it gives (schemas/action.schema.json, schemas/decision.schema.json, which CONTRACTS generates from core),
 * between the page's GENERATED policy-reference markers.
 * Run it after changing a schema; test/docs-generated.test.ts fails while the page is out of date.
 *
 *   npm run docs:policy            # rewrite the section
 *   npm run docs:policy -- --check # exit 1 when the section is out of date
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { generatedSection, replaceGeneratedSection } from './docs/markdown.js';
import { renderSchemaReference } from './docs/schema-reference.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const POLICY_DOC = `${ROOT}docs/policy-language.md`;
export const SECTION = 'policy-reference';

/** The generated reference: policy files, then policy test files. */
export function policyReference(): string {
  const read = (file: string): Record<string, unknown> => JSON.parse(readFileSync(`${ROOT}schemas/${file}`, 'utf8')) as Record<string, unknown>;
  return [
    '',
    renderSchemaReference(read('policy.schema.json'), { prefix: 'Policy' }),
    renderSchemaReference(read('policy-test.schema.json'), { prefix: 'Policy test' }),
    renderSchemaReference(read('action.schema.json'), { prefix: 'Action', rootTitle: 'Action' }),
    renderSchemaReference(read('decision.schema.json'), { prefix: 'Decision', rootTitle: 'Decision' }),
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const page = readFileSync(POLICY_DOC, 'utf8');
  const fresh = policyReference();
  if (process.argv.includes('--check')) {
    const current = generatedSection(page, SECTION, 'docs/policy-language.md');
    if (current !== fresh) {
      console.error('docs/policy-language.md: the schema reference is out of date. Run: npm run docs:policy');
      process.exitCode = 1;
    }
  } else {
    writeFileSync(POLICY_DOC, replaceGeneratedSection(page, SECTION, fresh, 'docs/policy-language.md'));
    console.error('docs/policy-language.md: schema reference written');
  }
}
