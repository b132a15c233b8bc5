import { createGenerator, type Config } from 'ts-json-schema-generator';
import { SCHEMA_BASE } from '../../src/core/contracts/decision-schema.js';
import { errorBodyJsonSchema } from '../../src/core/errors/body.js';

/** The types of every command's --json output (src/cli/json-output.ts). */
const SOURCE = 'src/cli/json-output.ts';
const DRAFT_07 = 'http://json-schema.org/draft-07/schema#';

type Schema = Record<string, unknown>;

/** `cost:prices:import` → `cost-prices-import`: the file name of a command's schema under schemas/cli/. */
export function schemaFileName(commandId: string): string {
  return commandId.replace(/:/g, '-');
}

/** What a command prints, shown as users type it: `agentguard cost prices import`. */
function commandLine(commandId: string): string {
  return `agentguard ${commandId.replace(/:/g, ' ')}`;
}

/**
 * Generates, from the TypeScript types of src/cli/json-output.ts, the JSON Schema of each command's --json output
 * (`schemas/cli/<id>.json`), of one line of each streaming command (`schemas/cli/<id>.line.json`) and of the error
 * every command prints with --json when it fails (`schemas/cli/error.json`). Keys are file paths from the root.
 */
export function cliSchemas(root: string): Record<string, Schema> {
  const config: Config = {
    path: `${root}/${SOURCE}`,
    tsconfig: `${root}/tsconfig.json`,
    type: '*',
    expose: 'none',
    topRef: false,
    jsDoc: 'extended',
    additionalProperties: false,
    skipTypeCheck: true,
    sortProps: true,
  };
  const generator = createGenerator(config);
  const files: Record<string, Schema> = {};
  const split = (type: string, suffix: string, describe: (id: string) => string) => {
    const whole = generator.createSchema(type) as Schema & { properties: Record<string, Schema>; definitions?: Record<string, Schema> };
    for (const [id, schema] of Object.entries(whole.properties)) {
      const name = `${schemaFileName(id)}${suffix}`;
      files[`schemas/cli/${name}.json`] = document(`cli/${name}.json`, describe(id), schema, whole.definitions);
    }
  };
  split('CliJsonOutput', '', (id) => `${commandLine(id)} --json: what it prints on stdout when it succeeds`);
  split('CliJsonLines', '.line', (id) => `${commandLine(id)} --json: one line of its JSON Lines output`);
  // Failures print the one error shape the sidecar also answers with: its schema is core's, not generated again.
  files['schemas/cli/error.json'] = document('cli/error.json', 'agentguard <command> --json: what it prints on stdout when it fails (exit code not 0)', errorBodyJsonSchema, undefined);
  // The policy schema is itself a JSON Schema: check it as one.
  const policySchema = files['schemas/cli/policy-schema.json'];
  files['schemas/cli/policy-schema.json'] = { ...withoutType(policySchema), $ref: DRAFT_07 };
  return files;
}

function document(id: string, title: string, schema: Schema, definitions: Record<string, Schema> | undefined): Schema {
  const { $schema: _s, definitions: _d, ...body } = schema;
  const used = definitions && Object.keys(definitions).length > 0 && JSON.stringify(body).includes('"#/definitions/');
  return { $schema: DRAFT_07, $id: `${SCHEMA_BASE}${id}`, title, ...body, ...(used ? { definitions } : {}) };
}

function withoutType(schema: Schema): Schema {
  const { type: _t, additionalProperties: _a, ...rest } = schema;
  return rest;
}
