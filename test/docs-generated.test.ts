import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { policyReference, POLICY_DOC, SECTION } from '../scripts/build-policy-doc.js';
import { SECTION as SIDECAR_SECTION, SIDECAR_DOC, sidecarOpenApi } from '../scripts/build-sidecar-doc.js';
import { renderOpenApiReference } from '../scripts/docs/openapi-reference.js';
import { generatedSection, replaceGeneratedSection } from '../scripts/docs/markdown.js';
import { renderSchemaReference } from '../scripts/docs/schema-reference.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const schema = (file: string): Record<string, unknown> => JSON.parse(readFileSync(`${ROOT}schemas/${file}`, 'utf8')) as Record<string, unknown>;

describe('docs/policy-language.md reference', () => {
  it('is what scripts/build-policy-doc.ts renders from the schemas (run `npm run docs:policy` after changing a schema)', () => {
    expect(generatedSection(readFileSync(POLICY_DOC, 'utf8'), SECTION)).toBe(policyReference());
  });

  it('has a row for every property of the policy schema and its rule, condition and operator definitions', () => {
    const reference = policyReference();
    const policy = schema('policy.schema.json') as { properties: Record<string, unknown>; definitions: Record<string, { properties?: Record<string, unknown> }> };
    for (const name of Object.keys(policy.properties)) expect(reference).toContain(`| \`${name}\` |`);
    for (const def of ['rule', 'operators', 'detect']) {
      for (const name of Object.keys(policy.definitions[def].properties ?? {})) expect(reference, `${def}.${name}`).toMatch(new RegExp(`\\| \`${name.replace('$', '\\$')}\` \\|`));
    }
    for (const step of ['set', 'remove', 'keep', 'clamp', 'replace', 'redact']) expect(reference).toContain(`- \`${step}\`:`);
    for (const file of ['action.schema.json', 'decision.schema.json']) {
      for (const name of Object.keys((schema(file) as { properties: Record<string, unknown> }).properties)) expect(reference, `${file} ${name}`).toContain(`| \`${name}\` |`);
    }
  });

  it('changes when a description in the schema changes, so a stale page fails the first test', () => {
    const policy = schema('policy.schema.json') as { properties: { name: { description: string } } };
    const before = renderSchemaReference(policy, { prefix: 'Policy' });
    policy.properties.name.description = 'A different description.';
    const after = renderSchemaReference(policy, { prefix: 'Policy' });
    expect(after).not.toBe(before);
    expect(after).toContain('A different description.');
  });

  it('says which keys are required, refused or exclusive, and escapes text that Markdown would read as markup', () => {
    const out = renderSchemaReference(
      {
        title: 't',
        type: 'object',
        required: ['a'],
        additionalProperties: false,
        not: { required: ['a', 'b'] },
        properties: { a: { type: 'string', description: 'glob **[x]** or <NAME>', maxLength: 5 }, b: { enum: ['x', 'y'], default: 'x' } },
      },
      { prefix: 'T' },
    );
    expect(out).toContain('| `a` | string | yes | glob \\*\\*[x]\\*\\* or \\<NAME> At most 5 characters. |');
    expect(out).toContain('| `b` | one of `x`, `y` |  | Default: `"x"`. |');
    expect(out).toContain('Other keys are refused.');
    expect(out).toContain('`a` and `b` cannot be given together.');
  });

  it('replaces only the text between the markers', () => {
    const page = 'before\n<!-- BEGIN GENERATED x (npm run y) -->\nold\n<!-- END GENERATED x -->\nafter\n';
    expect(replaceGeneratedSection(page, 'x', 'new\n')).toBe('before\n<!-- BEGIN GENERATED x (npm run y) -->\nnew\n<!-- END GENERATED x -->\nafter\n');
    expect(() => generatedSection('no markers', 'x', 'p.md')).toThrow(/p.md has no/);
  });
});

describe('docs/cli.md', () => {
  const page = (): string => readFileSync(`${ROOT}docs/cli.md`, 'utf8');
  const commandIds = (): string[] =>
    readdirSync(`${ROOT}src/commands`, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts'))
      .map((f) => f.replace(/\.ts$/, '').split(sep).join(' '))
      .sort();

  it('has a section for every command in src/commands', () => {
    const documented = [...page().matchAll(/^## `agentguard ([a-z -]+?)(?: [A-Z[].*)?`$/gm)].map((m) => m[1]).sort();
    expect(documented).toEqual(commandIds());
  });

  it('is what `npm run docs:cli` generates from the built commands (build first: npx tsc -p tsconfig.build.json)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ag-docs-cli-'));
    try {
      const copy = join(dir, 'cli.md');
      copyFileSync(`${ROOT}docs/cli.md`, copy);
      // As `npm run docs:cli` runs it: from the built commands (under vitest NODE_ENV is `test`, which makes oclif load src/).
      const env: NodeJS.ProcessEnv = { ...process.env };
      delete env.NODE_ENV;
      const run = spawnSync(process.execPath, [`${ROOT}node_modules/oclif/bin/run.js`, 'readme', '--readme-path', copy, '--no-source-links'], { cwd: ROOT, encoding: 'utf8', env });
      expect(run.status, run.stderr).toBe(0);
      // oclif skips a command it cannot load with only a warning; that must fail here, not leave it out of the docs.
      expect(run.stderr).not.toMatch(/Warning: \w*Error/);
      expect(readFileSync(copy, 'utf8'), 'docs/cli.md is out of date: run npm run docs:cli').toBe(page());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('docs/sidecar-api.md route reference', () => {
  it('is what scripts/build-sidecar-doc.ts renders from the sidecar\'s OpenAPI snapshot (run `npm run docs:sidecar` after `npm run contracts:update`)', () => {
    const doc = sidecarOpenApi();
    const reference = `\n${renderOpenApiReference(doc)}`;
    expect(generatedSection(readFileSync(SIDECAR_DOC, 'utf8'), SIDECAR_SECTION)).toBe(reference);
    // Every route the sidecar serves has its section.
    for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
      for (const method of Object.keys(item)) expect(reference).toContain(`#### ${method.toUpperCase()} ${path}\n`);
    }
  });

  it('renders parameters, flattened bodies, responses and linked schemas', () => {
    const out = renderOpenApiReference({
      tags: [{ name: 'things', description: 'Things' }],
      components: { schemas: { Thing: { type: 'object', required: ['id'], properties: { id: { type: 'string', description: 'Its id' } } } } },
      paths: {
        '/v1/things/{id}': {
          post: {
            tags: ['things'],
            summary: 'Change a thing',
            security: [{ bearer: [] }],
            parameters: [{ in: 'path', name: 'id', required: true, schema: { type: 'string', maxLength: 8 } }],
            requestBody: { content: { 'application/json': { schema: { type: 'object', required: ['to'], properties: { to: { type: 'object', properties: { size: { type: 'integer', minimum: 0 } } } } } } } },
            responses: { 200: { description: 'Changed', content: { 'application/json': { schema: { $ref: '#/components/schemas/Thing' } } } }, 404: { description: 'No such thing' } },
          },
        },
      },
    });
    expect(out).toContain('#### POST /v1/things/{id}\n\n**Change a thing.** Needs `Authorization: Bearer <token>`.');
    expect(out).toContain('| `id` | path | string | yes | At most 8 characters. |');
    expect(out).toContain('| `to.size` | integer |  | Between 0 and ∞. |');
    expect(out).toContain('| 200 | Changed | [Thing](#thing) |');
    expect(out).toContain('| 404 | No such thing |  |');
    expect(out).toContain('| `id` | string | yes | Its id |');
  });
});
