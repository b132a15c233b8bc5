import { selectFindings } from '../guardrails/detections.js';
import type { Guardrail } from '../guardrails/types.js';
import type { Action } from '../action.js';
import { CompileProblem, type CondNode } from './conditions.js';
import type { EvalContext } from './eval-context.js';
import type { GuardrailSet } from './guardrail-set.js';
import { parsePath } from './path.js';
import type { PathSegment } from './problem.js';
import { suggest } from './schema.js';
import { countedFindings, countedTypes, guardrailTexts, textPath } from './texts.js';
import type { DetectSpec } from './types.js';

/** Paths of a `detect`'s `in` (default `input`), parsed; a bad one is a compile problem at its place. */
export function parseTextPaths(spec: string | string[] | undefined, at: PathSegment[]): string[][] {
  const list = spec === undefined ? ['input'] : Array.isArray(spec) ? spec : [spec];
  return list.map((text, i) => {
    const parsed = parsePath(text);
    if (typeof parsed === 'string') throw new CompileProblem(`not a valid path: ${parsed}`, Array.isArray(spec) ? [...at, i] : at);
    return parsed.segments;
  });
}

/** `types` of a detect or redact, checked against what the guardrail can report. */
export function checkTypes(guardrail: Guardrail, name: string, types: string[] | undefined, at: PathSegment[]): Set<string> | undefined {
  if (!types) return undefined;
  types.forEach((type, i) => {
    if (!guardrail.types.includes(type)) {
      throw new CompileProblem(`guardrail "${name}" never reports type "${type}".${suggest(type, guardrail.types)}`, [...at, i], `It reports: ${guardrail.types.join(', ')}.`);
    }
  });
  return new Set(types);
}

/** Compiles `detect: { guardrail, in, types, minScore }` into a condition that reads the decision's detections. */
export function compileDetect(spec: DetectSpec, at: PathSegment[], guardrails: GuardrailSet | undefined): CondNode {
  if (!guardrails) throw new CompileProblem('detect is not available here', at);
  const name = spec.guardrail;
  const guardrail = guardrails.resolve(name, [...at, 'guardrail']);
  const types = checkTypes(guardrail, name, spec.types, [...at, 'types']);
  const minScore = spec.minScore ?? 0;
  const paths = parseTextPaths(spec.in, [...at, 'in']);
  const inText = spec.in === undefined ? 'input' : Array.isArray(spec.in) ? spec.in.join(', ') : spec.in;
  return {
    label: `detect ${name}${spec.types ? ` ${spec.types.join('|')}` : ''} in ${inText}${minScore > 0 ? ` (score ≥ ${minScore})` : ''}`,
    test: (action: Action, ctx?: EvalContext) => {
      if (!ctx) throw new Error('guardrails need a decision context');
      let found = false;
      for (const segments of paths) {
        for (const at of guardrailTexts(guardrail, action, segments)) {
          const hits = selectFindings(countedFindings(guardrail, at, ctx.detections.findings(name, at.text, countedTypes(guardrail, at, types), minScore)), types, minScore);
          if (hits.length === 0) continue;
          ctx.detections.report(name, hits, textPath(at));
          found = true;
        }
      }
      return found;
    },
  };
}
