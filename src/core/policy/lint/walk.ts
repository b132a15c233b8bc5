import type { PathSegment } from '../problem.js';
import type { Condition, OperatorObject } from '../types.js';
import { isOperatorObject } from './facts.js';

/** An operator object found in a `when`, with the path key it belongs to. */
export interface OperatorSite {
  pathText: string;
  ops: OperatorObject;
  at: PathSegment[];
  /** True for the operand of an operator-level `not` (where `exists` has no effect). */
  insideNot: boolean;
}

/** Calls `visit` for every operator object in a `when`, including those nested in `all`, `any`, `not` and operator `not`. */
export function walkOperatorObjects(when: Condition | undefined, at: PathSegment[], visit: (site: OperatorSite) => void): void {
  if (when === undefined || when === null || typeof when !== 'object') return;
  for (const [key, spec] of Object.entries(when)) {
    const here = [...at, key];
    if (key === 'all' || key === 'any') (spec as Condition[]).forEach((c, i) => walkOperatorObjects(c, [...here, i], visit));
    else if (key === 'not') walkOperatorObjects(spec as Condition, here, visit);
    else if (key === 'detect' || key === 'time') continue;
    else if (isOperatorObject(spec)) visitOps(key, spec, here, false, visit);
  }
}

function visitOps(pathText: string, ops: OperatorObject, at: PathSegment[], insideNot: boolean, visit: (site: OperatorSite) => void): void {
  visit({ pathText, ops, at, insideNot });
  if (isOperatorObject(ops.not)) visitOps(pathText, ops.not, [...at, 'not'], true, visit);
}
