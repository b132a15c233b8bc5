/**
 * Sets `key` as an own, enumerable data property. Unlike `target[key] = value`, a key named `__proto__` (which
 * JSON.parse and YAML give as an ordinary key) stays a key instead of replacing the target's prototype.
 */
export function setOwnKey(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
