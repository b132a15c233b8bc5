import { isAbsolute, relative } from 'node:path';

/** A path as shown to users: relative to `cwd` (the working directory), absolute only when no relative form exists. */
export function displayPath(absolute: string, cwd = process.cwd()): string {
  const rel = relative(cwd, absolute);
  if (rel === '') return '.';
  return isAbsolute(rel) ? absolute : rel;
}
