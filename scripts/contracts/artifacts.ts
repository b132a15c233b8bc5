import { isDeepStrictEqual } from 'node:util';
import { actionSchema, decisionSchema, previewSchema } from '../../src/core/contracts/decision-schema.js';
import { cliSchemas } from './cli-schemas.js';
import { commandSnapshot } from './command-snapshot.js';
import { DECISION_VALIDATORS_FILE, decisionValidatorsSource } from './decision-validator.js';
import { openApiDocument } from './openapi-snapshot.js';

/** The command that rewrites every generated contract file; named in every failure message. */
export const UPDATE_COMMAND = 'npm run contracts:update';

export const COMMANDS_SNAPSHOT = 'schemas/cli/commands.snapshot.json';
export const OPENAPI_SNAPSHOT = 'schemas/openapi.json';

const DRAFT_07 = 'http://json-schema.org/draft-07/schema#';

/** A file generated from the code: its path from the package root, and its content as it must be. */
export interface Artifact {
  path: string;
  text: string;
}

type Json = Record<string, unknown>;

const jsonText = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/** The Action, Decision and Preview schemas as published files (schemas/*.schema.json), from core's objects. */
export function publishedSchemas(): Artifact[] {
  return [actionSchema, decisionSchema, previewSchema].map((schema) => {
    const { $id, ...rest } = schema;
    return { path: `schemas/${$id.slice($id.lastIndexOf('/') + 1)}`, text: jsonText({ $schema: DRAFT_07, $id, ...rest }) };
  });
}

/** Every generated contract file, as the code says it must be now. */
export async function buildArtifacts(root: string): Promise<Artifact[]> {
  const cli = Object.entries(cliSchemas(root)).map(([path, schema]) => ({ path, text: jsonText(schema) }));
  return [
    { path: DECISION_VALIDATORS_FILE, text: decisionValidatorsSource() },
    ...publishedSchemas(),
    ...cli,
    { path: COMMANDS_SNAPSHOT, text: jsonText(await commandSnapshot(root)) },
    { path: OPENAPI_SNAPSHOT, text: jsonText(await openApiDocument()) },
  ];
}

/**
 * What changed between the committed file and the one the code makes, in words: which commands or flags, which
 * routes, or just the file. Ends with the command that accepts the change.
 */
export function describeChange(path: string, committed: string | undefined, fresh: string): string {
  const accept = `If the change is intended, run \`${UPDATE_COMMAND}\` and commit the result.`;
  if (committed === undefined) return `${path} is missing. ${accept}`;
  let details: string[] = [];
  try {
    if (path === COMMANDS_SNAPSHOT) details = keyedChanges(JSON.parse(committed) as Json, JSON.parse(fresh) as Json, 'command', commandChange);
    else if (path === OPENAPI_SNAPSHOT) details = openApiChanges(JSON.parse(committed) as Json, JSON.parse(fresh) as Json);
  } catch {
    // A file that is not JSON any more: reported as a whole below.
  }
  const what = path.startsWith('schemas/cli/') && path !== COMMANDS_SNAPSHOT ? ` (the --json output of \`agentguard ${cliCommandOf(path)}\`)` : '';
  return [`${path}${what} is out of date with the code.`, ...details.map((d) => `  - ${d}`), accept].join('\n');
}

function cliCommandOf(path: string): string {
  return path.replace(/^schemas\/cli\//, '').replace(/(\.line)?\.json$/, '').replace(/-/g, ' ');
}

function keyedChanges(before: Json, after: Json, noun: string, changed: (key: string, a: Json, b: Json) => string): string[] {
  const out: string[] = [];
  for (const key of Object.keys(before)) if (!(key in after)) out.push(`${noun} ${key} was removed`);
  for (const key of Object.keys(after)) if (!(key in before)) out.push(`${noun} ${key} was added`);
  for (const key of Object.keys(after)) {
    if (key in before && !isDeepStrictEqual(before[key], after[key])) out.push(changed(key, before[key] as Json, after[key] as Json));
  }
  return out;
}

function commandChange(id: string, before: Json, after: Json): string {
  const parts: string[] = [];
  for (const kind of ['flags', 'args'] as const) {
    const a = (before[kind] ?? {}) as Json;
    const b = (after[kind] ?? {}) as Json;
    const names = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((n) => !isDeepStrictEqual(a[n], b[n]));
    if (names.length > 0) parts.push(`${kind} ${names.map((n) => (!(n in a) ? `+${n}` : !(n in b) ? `-${n}` : n)).join(', ')}`);
  }
  if (parts.length === 0) parts.push('aliases or visibility');
  return `command ${id} changed: ${parts.join('; ')}`;
}

function openApiChanges(before: Json, after: Json): string[] {
  const routes = (doc: Json) => {
    const out: Json = {};
    for (const [path, methods] of Object.entries((doc.paths ?? {}) as Record<string, Json>)) {
      for (const [method, operation] of Object.entries(methods)) out[`${method.toUpperCase()} ${path}`] = operation;
    }
    return out;
  };
  const out = keyedChanges(routes(before), routes(after), 'route', (route) => `route ${route} changed (parameters, body, responses or description)`);
  const schemas = (doc: Json) => ((doc.components as Json | undefined)?.schemas ?? {}) as Json;
  out.push(...keyedChanges(schemas(before), schemas(after), 'shared schema', (name) => `shared schema ${name} changed (used by every route that refers to it)`));
  for (const key of ['info', 'tags', 'openapi'] as const) {
    if (!isDeepStrictEqual(before[key], after[key])) out.push(`the document's ${key} changed`);
  }
  return out;
}
