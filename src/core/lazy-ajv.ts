import { createRequire } from 'node:module';
import type { Ajv, Options } from 'ajv';

let AjvClass: typeof Ajv | undefined;

/**
 * A new ajv instance, with ajv loaded on first call: loading and compiling with it is most of a short process's
 * start (a coding agent's hook), so code whose schemas are precompiled loads it only for what is not.
 */
export function newAjv(options: Options): Ajv {
  AjvClass ??= (createRequire(import.meta.url)('ajv') as { Ajv: typeof Ajv }).Ajv;
  return new AjvClass(options);
}
