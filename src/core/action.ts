import type { Finding as GuardrailFinding } from './guardrails/types.js';
/** The Action envelope: what an agent wants to do. `kind` is free text; `tool` and `llm` are special-cased later. */
export interface Action {
  agent?: { id?: string; [key: string]: unknown };
  kind: string;
  name: string;
  input?: Record<string, unknown>;
  context?: Record<string, unknown>;
}

export type Effect = 'allow' | 'deny' | 'transform' | 'require_approval';

export const EFFECTS: readonly Effect[] = ['allow', 'deny', 'transform', 'require_approval'];

/** Why a decision came out the way it did. `rule` is absent when the reason is not a rule (the default, an error). */
export interface Reason {
  rule?: string;
  effect: Effect;
  message: string;
  /** Machine-readable cause when not a plain rule match: `default`, `invalid_action`, `rule_error`, `transform_error`. */
  code?: string;
  /** With code `rate_limited`: seconds until the rule's rate limit has room again. */
  retryAfter?: number;
}

/** A guardrail finding in a decision: what was found, and at which path of the action (never the matched text). */
export interface Finding extends GuardrailFinding {
  path?: string;
}

export interface Decision {
  id: string;
  effect: Effect;
  /** The action to run: the transformed copy when effect is `transform`, else the action as given. */
  action: Action;
  reasons: Reason[];
  findings: Finding[];
  policy: { name: string; hash: string };
  elapsedUs: number;
  /** For `require_approval`: the approval a person must give before the action may run. */
  approval?: { id: string; status: 'pending' | 'approved' | 'denied' | 'expired' | 'cancelled'; expiresAt: string };
}

/** JSON Schema of an Action, shared by the CLI, the sidecar and the SDK. */
export const actionSchema = {
  $id: 'https://agentguard.dev/schemas/action.schema.json',
  type: 'object',
  required: ['kind', 'name'],
  additionalProperties: false,
  properties: {
    agent: {
      type: 'object',
      properties: { id: { type: 'string', minLength: 1, maxLength: 256 } },
    },
    kind: { type: 'string', minLength: 1, maxLength: 256 },
    name: { type: 'string', minLength: 1, maxLength: 1024 },
    input: { type: 'object' },
    context: { type: 'object' },
  },
} as const;

function isObjectOrAbsent(v: unknown): boolean {
  return v === undefined || (v !== null && typeof v === 'object' && !Array.isArray(v));
}

/** The hot-path test: true for a well-formed Action, without allocating. */
function isWellFormed(v: Record<string, unknown>): boolean {
  for (const key in v) {
    if (key !== 'kind' && key !== 'name' && key !== 'input' && key !== 'context' && key !== 'agent') return false;
  }
  const { kind, name, agent } = v;
  return (
    typeof kind === 'string' && kind !== '' && typeof name === 'string' && name !== '' &&
    isObjectOrAbsent(v.input) && isObjectOrAbsent(v.context) && isObjectOrAbsent(agent) &&
    (agent === undefined || !Object.prototype.hasOwnProperty.call(agent, 'id') || typeof (agent as { id: unknown }).id === 'string')
  );
}

const NO_PROBLEMS: readonly string[] = Object.freeze([]);

/** Returns a list of problems (empty when the value is a well-formed Action). Cheap: no schema compiler on the hot path. */
export function checkAction(value: unknown): readonly string[] {
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && isWellFormed(value as Record<string, unknown>)) return NO_PROBLEMS;
  return actionProblems(value);
}

function actionProblems(value: unknown): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return [`an action must be a JSON object, got ${describeType(value)}`];
  }
  const problems: string[] = [];
  const v = value as Record<string, unknown>;
  for (const key of Object.keys(v)) {
    if (!(key in actionSchema.properties)) problems.push(`unknown field "${key}" (allowed: agent, kind, name, input, context)`);
  }
  for (const key of ['kind', 'name'] as const) {
    if (!(key in v)) problems.push(`"${key}" is required`);
    else if (typeof v[key] !== 'string' || v[key] === '') problems.push(`"${key}" must be a non-empty string, got ${describeType(v[key])}`);
  }
  for (const key of ['agent', 'input', 'context'] as const) {
    if (key in v && v[key] !== undefined && (v[key] === null || typeof v[key] !== 'object' || Array.isArray(v[key]))) {
      problems.push(`"${key}" must be an object, got ${describeType(v[key])}`);
    }
  }
  if (v.agent && typeof v.agent === 'object' && 'id' in v.agent && typeof (v.agent as { id: unknown }).id !== 'string') {
    problems.push(`"agent.id" must be a string, got ${describeType((v.agent as { id: unknown }).id)}`);
  }
  return problems;
}

export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)}`;
  if (typeof value === 'number' || typeof value === 'boolean') return `the ${typeof value} ${String(value)}`;
  return typeof value === 'object' ? 'an object' : typeof value;
}
