/** Parses a JSON column; a hand-edited value of the wrong shape reads as `fallback` rather than failing every listing. */
export function jsonColumn<T>(text: string, fallback: T, ok: (value: unknown) => boolean): T {
  try {
    const value: unknown = JSON.parse(text);
    return ok(value) ? (value as T) : fallback;
  } catch {
    return fallback;
  }
}

export const isStrings = (v: unknown): boolean => Array.isArray(v) && v.every((s) => typeof s === 'string');
