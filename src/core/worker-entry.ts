import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/**
 * The entry of a worker thread whose module `name` sits next to the module at `from` (its import.meta.url): the
 * compiled JavaScript in dist; or, when running from the TypeScript sources (vitest, tsx), the TypeScript module,
 * imported by a small bootstrap once tsx's loader is registered.
 */
export function workerEntry(from: string, name: string): { entry: URL | string; eval: boolean } {
  if (!from.endsWith('.ts')) return { entry: new URL(`./${name}.js`, from), eval: false };
  const tsx = pathToFileURL(createRequire(from).resolve('tsx/esm/api')).href;
  const worker = new URL(`./${name}.ts`, from).href;
  return { entry: `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(worker)}); });`, eval: true };
}
