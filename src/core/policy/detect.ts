import { builtinSpecOf, markBuiltin } from '../guardrails/builtin-spec.js';
import { selectFindings } from '../guardrails/detections.js';
import { memoizeDetect } from '../guardrails/memo.js';
import { BUILTIN_GUARDRAILS } from '../guardrails/registry.js';
import type { Guardrail, TextContext } from '../guardrails/types.js';
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

/** Action kinds whose texts are data an agent read (tool and MCP results): a context-aware guardrail reads them as data. */
export const DATA_KINDS: ReadonlySet<string> = new Set(['tool_output', 'mcp_output']);

/** Name under which a policy's guardrail reading texts in `context` is kept (beside the guardrail itself). */
export function contextVariantName(name: string, context: TextContext): string {
  return `${name}\u0000as:${context}`;
}

/**
 * The guardrail `name` reading texts in `context`: a built-in that scores by context is created again with `as` in its
 * config (and marked, so a worker thread builds the same); anything else is the guardrail itself, context-free.
 */
function contextVariant(guardrails: GuardrailSet, name: string, base: Guardrail, context: TextContext): string {
  if (!base.contextAware) return name;
  const spec = builtinSpecOf(base);
  const factory = spec && BUILTIN_GUARDRAILS.get(spec.use);
  if (!spec || !factory) return name;
  const key = contextVariantName(name, context);
  if (guardrails.instances.has(key)) return key;
  const config = { ...spec.config, as: context };
  const variant = memoizeDetect(factory.create(config));
  markBuiltin(variant, { use: spec.use, config });
  guardrails.instances.set(key, variant);
  return key;
}

/**
 * The instance that reads a detect's texts for an action of `kind`: the one its `as` names, else by position (tool and
 * MCP results are data). Only for guardrails that score by context; the names are those compileDetect registered.
 */
export function readerFor(name: string, as: TextContext | undefined, kind: string): string {
  if (as === 'data' || (as === undefined && DATA_KINDS.has(kind))) return contextVariantName(name, 'data');
  return as === 'message' ? contextVariantName(name, 'message') : name;
}

/** Compiles `detect: { guardrail, in, types, minScore, as }` into a condition that reads the decision's detections. */
export function compileDetect(spec: DetectSpec, at: PathSegment[], guardrails: GuardrailSet | undefined): CondNode {
  if (!guardrails) throw new CompileProblem('detect is not available here', at);
  const name = spec.guardrail;
  const guardrail = guardrails.resolve(name, [...at, 'guardrail']);
  const types = checkTypes(guardrail, name, spec.types, [...at, 'types']);
  const minScore = spec.minScore ?? 0;
  const paths = parseTextPaths(spec.in, [...at, 'in']);
  const inText = spec.in === undefined ? 'input' : Array.isArray(spec.in) ? spec.in.join(', ') : spec.in;
  // Which instance reads the texts: the one `as` names, else by position (tool and MCP results are data).
  contextVariant(guardrails, name, guardrail, spec.as === 'message' ? 'message' : 'data');
  const reader = (action: Action) => {
    const wanted = readerFor(name, spec.as, action.kind);
    return guardrails.instances.has(wanted) ? wanted : name;
  };
  return {
    label: `detect ${name}${spec.types ? ` ${spec.types.join('|')}` : ''} in ${inText}${spec.as ? ` as ${spec.as}` : ''}${minScore > 0 ? ` (score ≥ ${minScore})` : ''}`,
    test: (action: Action, ctx?: EvalContext) => {
      if (!ctx) throw new Error('guardrails need a decision context');
      let found = false;
      const instance = reader(action);
      for (const segments of paths) {
        for (const at of guardrailTexts(guardrail, action, segments)) {
          const hits = selectFindings(countedFindings(guardrail, at, ctx.detections.findings(instance, at.text, countedTypes(guardrail, at, types), minScore)), types, minScore);
          if (hits.length === 0) continue;
          ctx.detections.report(name, hits, textPath(at));
          found = true;
        }
      }
      return found;
    },
  };
}
