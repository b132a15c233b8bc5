import type { Action } from '../action.js';
import { compileRegex, CompileProblem } from './conditions.js';
import type { EvalContext } from './eval-context.js';
import type { GuardrailSet } from './guardrail-set.js';
import { compileRedactStep } from './redact-step.js';
import { checkRegexInput, DEFAULT_REGEX_MAX_LENGTH } from './regex-limits.js';
import { getPath, MISSING, parsePath, removePath, setPath } from './path.js';
import type { PathSegment } from './problem.js';
import type { TransformStep } from './types.js';

/** Applies one step to a private copy of the action. Throws when the step cannot apply; the caller turns that into a deny. */
export type CompiledStep = { label: string; apply: (copy: Action, ctx?: EvalContext) => void };

function fixedPath(text: string, at: PathSegment[]): string[] {
  const parsed = parsePath(text);
  if (typeof parsed === 'string') throw new CompileProblem(`not a valid path: ${parsed}`, at);
  if (parsed.hasWildcard) throw new CompileProblem(`"${text}": transforms take a path without "*"`, at);
  return parsed.segments;
}

export function compileStep(step: TransformStep, at: PathSegment[], guardrails?: GuardrailSet): CompiledStep {
  if ('redact' in step) return compileRedactStep(step, at, guardrails);
  if ('set' in step) {
    const segs = fixedPath(step.set, [...at, 'set']);
    const value = step.value;
    const isObject = value !== null && typeof value === 'object';
    return {
      label: `set ${step.set} = ${JSON.stringify(value)}`,
      apply: (copy) => setPath(copy as unknown as Record<string, unknown>, segs, isObject ? structuredClone(value) : value),
    };
  }
  if ('remove' in step) {
    const segs = fixedPath(step.remove, [...at, 'remove']);
    if (segs.length === 1 && (segs[0] === 'kind' || segs[0] === 'name')) {
      throw new CompileProblem(`"${step.remove}" is required in every action and cannot be removed`, [...at, 'remove']);
    }
    return { label: `remove ${step.remove}`, apply: (copy) => removePath(copy, segs) };
  }
  if ('keep' in step) {
    const inText = step.in ?? 'input';
    const container = fixedPath(inText, [...at, 'in']);
    const kept = step.keep.map((k, i) => {
      if (k.split('.').some((s) => s === '' || s === '*')) throw new CompileProblem(`"${k}" is not a valid field path`, [...at, 'keep', i]);
      return k.split('.');
    });
    return {
      label: `keep ${step.keep.join(', ')} in ${inText}`,
      apply: (copy) => {
        const source = getPath(copy, container);
        if (source === MISSING || source === undefined) return;
        if (source === null || typeof source !== 'object' || Array.isArray(source)) throw new Error(`"${inText}" is not an object, so keep cannot apply`);
        const result: Record<string, unknown> = {};
        for (const segs of kept) {
          const v = getPath(source, segs);
          if (v !== MISSING) setPath(result, segs, v);
        }
        setPath(copy as unknown as Record<string, unknown>, container, result);
      },
    };
  }
  if ('clamp' in step) {
    const segs = fixedPath(step.clamp, [...at, 'clamp']);
    const { min, max } = step;
    if (min !== undefined && max !== undefined && min > max) throw new CompileProblem(`clamp min ${min} is greater than max ${max}`, at);
    return {
      label: `clamp ${step.clamp} to [${min ?? '-∞'}, ${max ?? '∞'}]`,
      apply: (copy) => {
        const v = getPath(copy, segs);
        if (v === MISSING || v === undefined) return;
        if (typeof v !== 'number' || Number.isNaN(v)) throw new Error(`"${step.clamp}" is not a number, so it cannot be clamped`);
        let out = v;
        if (min !== undefined && out < min) out = min;
        if (max !== undefined && out > max) out = max;
        if (out !== v) setPath(copy as unknown as Record<string, unknown>, segs, out);
      },
    };
  }
  if ('replace' in step) {
    const segs = fixedPath(step.replace, [...at, 'replace']);
    const re = compileRegex(step.pattern, step.flags, [...at, 'pattern']);
    const global = new RegExp(re.source, re.flags + 'g');
    const maxLength = step.maxLength ?? DEFAULT_REGEX_MAX_LENGTH;
    return {
      label: `replace /${step.pattern}/ in ${step.replace}`,
      apply: (copy) => {
        const v = getPath(copy, segs);
        if (v === MISSING || v === undefined) return;
        if (typeof v !== 'string') throw new Error(`"${step.replace}" is not a string, so replace cannot apply`);
        checkRegexInput(v, maxLength, `pattern ${JSON.stringify(step.pattern)}`);
        global.lastIndex = 0;
        setPath(copy as unknown as Record<string, unknown>, segs, v.replace(global, step.with));
      },
    };
  }
  throw new CompileProblem('a transform step needs one of set, remove, keep, clamp, replace, redact', at);
}
