import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildArtifacts, describeChange, COMMANDS_SNAPSHOT, OPENAPI_SNAPSHOT, UPDATE_COMMAND, type Artifact } from '../scripts/contracts/artifacts.js';
import { ROOT } from './helpers/cli.js';

const read = (path: string): string | undefined => (existsSync(join(ROOT, path)) ? readFileSync(join(ROOT, path), 'utf8') : undefined);

let artifacts: Artifact[];
beforeAll(async () => {
  artifacts = await buildArtifacts(ROOT);
}, 120_000);

describe('contract files are generated from the code and checked in: a contract change is a deliberate diff', () => {
  it('each generated file matches what the code makes now', () => {
    const stale = artifacts.filter(({ path, text }) => read(path) !== text);
    expect(stale.map(({ path, text }) => describeChange(path, read(path), text)).join('\n\n'), 'stale contract files').toBe('');
  });

  it('schemas/cli holds no schema of a command that no longer exists', () => {
    const made = new Set(artifacts.map((a) => a.path));
    const leftovers = readdirSync(join(ROOT, 'schemas/cli')).map((f) => `schemas/cli/${f}`).filter((p) => !made.has(p));
    expect(leftovers, `remove them (${UPDATE_COMMAND} does not delete files)`).toEqual([]);
  });

  it('the package publishes the schemas and the snapshots', () => {
    const pkg = JSON.parse(read('package.json')!) as { files: string[]; exports: Record<string, unknown>; scripts: Record<string, string> };
    expect(pkg.files).toContain('schemas');
    expect(pkg.exports).toMatchObject({ './decision.schema.json': './schemas/decision.schema.json', './schemas/cli/*': './schemas/cli/*' });
    expect(pkg.scripts['contracts:update']).toBe('tsx scripts/contracts/update.ts');
  });
});

describe('the failure message says what changed and how to accept it', () => {
  const snapshot = () => JSON.parse(artifacts.find((a) => a.path === COMMANDS_SNAPSHOT)!.text) as Record<string, { flags: Record<string, unknown> }>;
  const openapi = () => JSON.parse(artifacts.find((a) => a.path === OPENAPI_SNAPSHOT)!.text) as { paths: Record<string, Record<string, unknown>>; components: { schemas: Record<string, unknown> } };

  it('names the command and the flag that changed, a command added and one removed', () => {
    const before = snapshot();
    const after = snapshot();
    after['audit:query'].flags.limit = { type: 'option', default: '50' };
    delete after['token:list'];
    after['token:rotate'] = { flags: {} };
    const message = describeChange(COMMANDS_SNAPSHOT, JSON.stringify(before), JSON.stringify(after));
    expect(message).toContain('command audit:query changed: flags limit');
    expect(message).toContain('command token:list was removed');
    expect(message).toContain('command token:rotate was added');
    expect(message).toContain(UPDATE_COMMAND);
  });

  it('names the route and the shared schema that changed', () => {
    const before = openapi();
    const after = openapi();
    (after.paths['/v1/decide'].post as Record<string, unknown>).summary = 'Something else';
    delete after.paths['/healthz'];
    (after.components.schemas.Decision as Record<string, unknown>).required = ['id'];
    const message = describeChange(OPENAPI_SNAPSHOT, JSON.stringify(before), JSON.stringify(after));
    expect(message).toContain('route POST /v1/decide changed');
    expect(message).toContain('route GET /healthz was removed');
    expect(message).toContain('shared schema Decision changed');
    expect(message).toContain(UPDATE_COMMAND);
  });

  it('a CLI schema names its command', () => {
    expect(describeChange('schemas/cli/cost-prices-import.json', '{}', '{"type":"object"}')).toMatch(/the --json output of `agentguard cost prices import`[\s\S]*npm run contracts:update/);
  });
});

describe('the snapshots describe the real sidecar and CLI', () => {
  it('the OpenAPI snapshot serves the Decision of core, and every route of the sidecar', () => {
    const doc = JSON.parse(read(OPENAPI_SNAPSHOT)!) as { paths: Record<string, unknown>; components: { schemas: Record<string, { properties?: unknown; required?: unknown }> } };
    const decision = JSON.parse(read('schemas/decision.schema.json')!) as { properties: unknown; required: unknown };
    expect(doc.components.schemas.Decision.required).toEqual(decision.required);
    expect(Object.keys(doc.components.schemas.Decision.properties as object)).toEqual(Object.keys(decision.properties as object));
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/decide', '/v1/preview', '/v1/audit', '/healthz', '/readyz']));
  });

  it('the command snapshot lists every command file, with their flags', () => {
    const snapshot = JSON.parse(read(COMMANDS_SNAPSHOT)!) as Record<string, { flags: Record<string, { type: string }> }>;
    const files = (readdirSync(join(ROOT, 'src/commands'), { recursive: true }) as string[]).filter((f) => f.endsWith('.ts'));
    expect(Object.keys(snapshot).sort()).toEqual(files.map((f) => f.replace(/\.ts$/, '').split(/[\\/]/).join(':')).sort());
    // src/cli/json-output.ts names every command class, so its compile-time checks cover them all.
    const outputTypes = read('src/cli/json-output.ts')!;
    for (const file of files) expect(outputTypes, `src/cli/json-output.ts lists src/commands/${file}`).toContain(`import('../commands/${file.split(/[\\/]/).join('/').replace(/\.ts$/, '.js')}').default`);
    // A command with --json has the schema of what it prints (a document, or each line of a stream); one without
    // (mcp wrap: its stdout is the MCP protocol) has none.
    const schemas = new Set(readdirSync(join(ROOT, 'schemas/cli')));
    for (const [id, command] of Object.entries(snapshot)) {
      const name = id.replace(/:/g, '-');
      const hasSchema = schemas.has(`${name}.json`) || schemas.has(`${name}.line.json`);
      expect(hasSchema, `${id}: --json ${command.flags.json ? 'without' : 'absent, yet'} a schema in schemas/cli (see src/cli/json-output.ts)`).toBe(command.flags.json !== undefined);
    }
  });
});
