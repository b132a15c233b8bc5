import { createRequire } from 'node:module';

type Luxon = typeof import('luxon');
let loaded: Luxon | undefined;

/**
 * luxon (about 260 kB), loaded on first use: only policies with `time` conditions and cost budgets need it, and a
 * process deciding one call (a coding agent's hook) should not compile it otherwise. Its CommonJS build, so that a
 * synchronous compile can load it.
 */
export function luxon(): Luxon {
  loaded ??= createRequire(import.meta.url)('luxon') as Luxon;
  return loaded;
}
