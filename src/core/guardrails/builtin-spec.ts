import type { Policy } from '../policy/policy.js';
import type { Guardrail } from './types.js';

/** How to build a guardrail again elsewhere (a worker thread): the built-in's registry name and its config. */
export interface BuiltinSpec {
  use: string;
  config: Record<string, unknown>;
}

const specs = new WeakMap<Guardrail, BuiltinSpec>();

/** Marks `guardrail` as the built-in `use` created with `config` (only built-in local guardrails are marked). */
export function markBuiltin(guardrail: Guardrail, spec: BuiltinSpec): void {
  specs.set(guardrail, spec);
}

/** The spec of a built-in local guardrail; undefined for plugins and services, which run only where they were loaded. */
export function builtinSpecOf(guardrail: Guardrail): BuiltinSpec | undefined {
  return specs.get(guardrail);
}

/** The specs of the built-in local guardrails a policy uses (what a worker builds ahead of its first batch). */
export function builtinSpecsOf(policy: Policy): BuiltinSpec[] {
  return [...policy.compiled.guardrails.values()].flatMap((g) => builtinSpecOf(g) ?? []);
}
