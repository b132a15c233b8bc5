import type { Effect } from '../action.js';
import type { TimeSpec } from './time-window.js';

export type Literal = string | number | boolean | null;

export interface OperatorObject {
  eq?: unknown;
  ne?: unknown;
  in?: Literal[];
  glob?: string | string[];
  regex?: string;
  flags?: string;
  /** Accept a regex the ReDoS check finds catastrophic (or cannot decide); it still runs only on input up to maxLength. */
  unsafeRegex?: boolean;
  /** Longest value the regex runs on (default DEFAULT_REGEX_MAX_LENGTH); a longer value makes the condition an error. */
  maxLength?: number;
  contains?: unknown;
  startsWith?: string;
  endsWith?: string;
  gt?: number;
  gte?: number;
  lt?: number;
  lte?: number;
  exists?: boolean;
  not?: OperatorObject;
  /** On an object: the list of its own keys satisfies the operators (`keys: { some: { glob: … } }`). */
  keys?: OperatorObject;
  /** On a list: some item / every item / no item satisfies the operators (on a view's list of objects: a view condition). */
  some?: OperatorObject | Record<string, unknown>;
  every?: OperatorObject | Record<string, unknown>;
  none?: OperatorObject | Record<string, unknown>;
  /** Parses the string as a shell command line; the operand is a condition on the parsed view (see views/shell.ts). */
  shell?: Record<string, unknown>;
  /** Parses the string as SQL (`dialect`, default postgresql); the operand is a condition on the parsed view (see views/sql.ts). */
  sql?: Record<string, unknown>;
}

/** `detect`: true when a guardrail reports a finding in the texts under `in`. */
export interface DetectSpec {
  /** A built-in guardrail (pii, secrets, injection, moderation) or one named under the policy's `guardrails`. */
  guardrail: string;
  /** Paths whose texts are inspected: every string under them, at any depth (default `input`). */
  in?: string | string[];
  /** Only findings of these types count (all when absent). */
  types?: string[];
  /** Only findings scoring at least this count (default 0). */
  minScore?: number;
  /**
   * For guardrails that score by context (injection): read the texts as a `message` or as `data` an agent read. Absent:
   * by position, data for tool and MCP results (kinds tool_output, mcp_output), else as the guardrail is configured.
   */
  as?: 'message' | 'data';
}

/** A `when` object: dot paths mapped to a literal or an operator object, plus `all`, `any`, `not`, `detect`. All keys are ANDed. */
export interface Condition {
  all?: Condition[];
  any?: Condition[];
  not?: Condition;
  detect?: DetectSpec;
  /** True when the decision's time is in the window (see time-window.ts). */
  time?: TimeSpec;
  [path: string]: Literal | OperatorObject | Condition | Condition[] | DetectSpec | TimeSpec | undefined;
}

/** How a `redact` step rewrites what a guardrail found. */
export type RedactMode = 'replace' | 'mask' | 'hash' | 'encrypt' | 'vault';

/** A guardrail configured for this policy: a built-in with its config, or a plugin module. */
export interface GuardrailEntry {
  /** The built-in guardrail this entry configures (default: the entry's own name). */
  use?: string;
  /** A plugin: a module path relative to the policy file (./my-guardrail.js) or a package name. */
  module?: string;
  /** Checked against the guardrail's own JSON Schema. */
  config?: Record<string, unknown>;
  description?: string;
}

export type TransformStep =
  | { set: string; value: unknown }
  | { remove: string }
  | { keep: string[]; in?: string }
  | { clamp: string; min?: number; max?: number }
  | { replace: string; pattern: string; flags?: string; with: string; unsafeRegex?: boolean; maxLength?: number }
  | { redact: string; guardrail: string; mode?: RedactMode; types?: string[]; minScore?: number };

export interface RuleDocument {
  id: string;
  description?: string;
  effect: Effect;
  when?: Condition;
  message?: string;
  transform?: TransformStep[];
  /** Only for effect require_approval: who approves and how long they have. */
  approval?: ApprovalDocument;
  /** Only for effect allow or transform: how many matching actions may be allowed per window (see core/rate). */
  rate?: RateDocument;
}

/** `rate`: at most `max` allowed actions per `per`, counted per distinct value of the `key` paths. */
export interface RateDocument {
  /** Paths whose values pick the counter (e.g. [agent.id, name]); none: one counter for the rule. */
  key?: string[];
  max: number;
  /** A duration such as 30s, 1m, 1h, 1d. */
  per: string;
  /** sliding (default): the last `per` before each decision; fixed: windows of `per` aligned to the Unix epoch (UTC). */
  window?: 'sliding' | 'fixed';
}

export interface ApprovalDocument {
  /** A duration such as 15m, 1h30m or 2d; a timeout is a deny. */
  timeout: string;
  approvers?: string[];
  onTimeout?: 'deny';
  escalateAfter?: string;
  escalateTo?: string[];
}

export interface PolicyDocument {
  $schema?: string;
  version: 1;
  name: string;
  description?: string;
  default?: 'allow' | 'deny';
  /** Guardrails this policy configures or adds, by the name `detect` and `redact` use. */
  guardrails?: Record<string, GuardrailEntry>;
  /** Packs and files whose rules this policy takes in, with their ids prefixed (see compose/compose.ts). */
  include?: IncludeEntry[];
  /** Parameters this file declares (a pack's lists and limits): name → JSON Schema with a default. */
  params?: Record<string, Record<string, unknown>>;
  /** Set by a pack: its semantic version, which `agentguard:<pack>@<major>` checks. */
  pack?: { version: string; description?: string };
  rules: RuleDocument[];
}

/** `agentguard:<pack>[@<major>]`, `./file.yaml`, or the same as `pack` with parameters and an id prefix. */
export type IncludeEntry = string | { pack: string; params?: Record<string, unknown>; as?: string };

export const OPERATORS = [
  'eq', 'ne', 'in', 'glob', 'regex', 'flags', 'unsafeRegex', 'maxLength', 'contains', 'startsWith', 'endsWith', 'gt', 'gte', 'lt', 'lte', 'exists', 'not', 'keys', 'some', 'every', 'none', 'shell', 'sql',
] as const;

export const COMBINATORS = ['all', 'any', 'not'] as const;

/** Condition keys that are not paths. */
export const RESERVED_CONDITION_KEYS = [...COMBINATORS, 'detect', 'time'] as const;

/** Deepest nesting of `all` / `any` / `not` accepted; deeper documents are rejected rather than risking the stack. */
export const MAX_CONDITION_DEPTH = 32;
