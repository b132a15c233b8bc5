/**
 * True for an object as JSON.parse, the YAML and TOML readers and object literals make it (its prototype is
 * Object.prototype or null); false for null, arrays, dates, maps and class instances.
 */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
