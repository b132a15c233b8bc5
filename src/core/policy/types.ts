import type { Effect } from '../action.js';

export type Literal = string | number | boolean | null;

export interface OperatorObject {
  eq?: unknown;
  ne?: unknown;
  in?: Literal[];
  glob?: string | string[];
  regex?: string;
  flags?: string;
  contains?: unknown;
  startsWith?: string;
  endsWith?: string;
  gt?: number;
  gte?: number;
  lt?: number;
  lte?: number;
  exists?: boolean;
  not?: OperatorObject;
}

/** A `when` object: dot paths mapped to a literal or an operator object, plus `all`, `any`, `not`. All keys are ANDed. */
export interface Condition {
  all?: Condition[];
  any?: Condition[];
  not?: Condition;
  [path: string]: Literal | OperatorObject | Condition | Condition[] | undefined;
}

export type TransformStep =
  | { set: string; value: unknown }
  | { remove: string }
  | { keep: string[]; in?: string }
  | { clamp: string; min?: number; max?: number }
  | { replace: string; pattern: string; flags?: string; with: string };

export interface RuleDocument {
  id: string;
  description?: string;
  effect: Effect;
  when?: Condition;
  message?: string;
  transform?: TransformStep[];
}

export interface PolicyDocument {
  $schema?: string;
  version: 1;
  name: string;
  description?: string;
  default?: 'allow' | 'deny';
  rules: RuleDocument[];
}

export const OPERATORS = [
  'eq', 'ne', 'in', 'glob', 'regex', 'flags', 'contains', 'startsWith', 'endsWith', 'gt', 'gte', 'lt', 'lte', 'exists', 'not',
] as const;

export const COMBINATORS = ['all', 'any', 'not'] as const;

/** Deepest nesting of `all` / `any` / `not` accepted; deeper documents are rejected rather than risking the stack. */
export const MAX_CONDITION_DEPTH = 32;
