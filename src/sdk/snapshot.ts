import { setOwnKey } from '../core/own-key.js';

/**
 * A copy of a protected function's arguments, read once: plain objects and arrays are copied property by property
 * (each getter, or proxy trap, runs once), cloneable built-ins (Date, Map, Set, typed arrays…) are structured-cloned,
 * and anything else (functions, class instances) is passed as it is. The policy decides on this copy and the function
 * runs on it, so a value cannot read one way for the policy and another for the function.
 */
export function snapshot<T>(value: T): T {
  return copy(value, new Map()) as T;
}

function copy(value: unknown, seen: Map<object, unknown>): unknown {
  if (value === null || typeof value !== 'object') return value;
  const done = seen.get(value);
  if (done !== undefined) return done;
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    seen.set(value, out);
    const length = value.length;
    for (let i = 0; i < length; i++) out.push(copy(value[i], seen));
    return out;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) {
    const out: Record<string, unknown> = proto === null ? Object.create(null) : {};
    seen.set(value, out);
    for (const key of Object.keys(value)) setOwnKey(out, key, copy((value as Record<string, unknown>)[key], seen));
    return out;
  }
  try {
    const cloned = structuredClone(value);
    // structuredClone turns class instances into plain objects; only built-ins keep their type, so keep the rest as given.
    if (Object.getPrototypeOf(cloned) !== proto) return value;
    seen.set(value, cloned);
    return cloned;
  } catch {
    return value;
  }
}
