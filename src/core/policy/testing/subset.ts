import { describeType } from '../../action.js';
import { formatJsonPath, type PathSegment } from '../problem.js';

/** One place where the actual value does not contain the expected one. */
export interface SubsetMismatch {
  /** e.g. `action.input.items[0].id` */
  path: string;
  message: string;
}

/**
 * Checks that `actual` contains `expected`: objects may have more keys than expected, lists must have
 * the same length and match element by element, anything else must be equal (`===`).
 *
 * @example
 * subsetMismatches({ input: { readOnly: true } }, decision.action, ['action']) // [] when readOnly is true
 */
export function subsetMismatches(expected: unknown, actual: unknown, at: PathSegment[] = []): SubsetMismatch[] {
  const here = formatJsonPath(at);
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return [{ path: here, message: `expected a list, got ${show(actual)}` }];
    if (actual.length !== expected.length) {
      return [{ path: here, message: `expected a list of ${expected.length} item${expected.length === 1 ? '' : 's'}, got ${actual.length}` }];
    }
    return expected.flatMap((item, i) => subsetMismatches(item, actual[i], [...at, i]));
  }
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return [{ path: here, message: `expected an object, got ${show(actual)}` }];
    return Object.entries(expected).flatMap(([key, value]) => {
      if (!Object.prototype.hasOwnProperty.call(actual, key)) {
        return [{ path: formatJsonPath([...at, key]), message: `expected ${JSON.stringify(value)}, but the field is missing` }];
      }
      return subsetMismatches(value, (actual as Record<string, unknown>)[key], [...at, key]);
    });
  }
  return expected === actual ? [] : [{ path: here, message: `expected ${JSON.stringify(expected)}, got ${show(actual)}` }];
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value !== null && typeof value === 'object') return describeType(value);
  return JSON.stringify(value);
}
