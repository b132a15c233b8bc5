import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AgentGuardError } from '../../core/errors.js';

const require = createRequire(import.meta.url);

/** The ES module entry of a package, as `import` would resolve it. */
function esmEntry(name: string): string {
  try {
    return fileURLToPath(import.meta.resolve(name));
  } catch {
    // Where import.meta.resolve is unavailable (some test runners), read the package's "import" export.
    const manifest = require.resolve(`${name}/package.json`);
    const exported = (JSON.parse(readFileSync(manifest, 'utf8')) as { exports?: Record<string, unknown> }).exports?.['.'];
    const target = typeof exported === 'object' && exported !== null ? (exported as Record<string, unknown>).import : undefined;
    const file = typeof target === 'string' ? target : (target as Record<string, string> | undefined)?.default;
    if (!file) throw new Error(`${name} has no ES module entry`);
    return join(dirname(manifest), file);
  }
}

/**
 * Loads an optional peer dependency (openai, @anthropic-ai/sdk) synchronously as the same ES module instance that
 * `import` gives the application, so `instanceof` the original client holds. A missing package is a clear error.
 */
export function loadPeer<T>(name: string, usedBy: string): T {
  try {
    return require(esmEntry(name)) as T;
  } catch (error) {
    throw new AgentGuardError('PEER_DEPENDENCY_MISSING', `${usedBy} needs the "${name}" package, which could not be loaded (${(error as Error).message.split('\n')[0]})`, {
      actions: [`Install it next to agentguard: npm install ${name}`],
      cause: error,
    });
  }
}

/**
 * A constructor that builds its class on first `new` (so an optional peer is loaded only when used) and answers
 * `instanceof` for instances of that class.
 */
export function lazyClass<C extends new (...args: any[]) => object>(name: string, build: () => C): C {
  let built: C | undefined;
  const placeholder = { [name]: function () {} }[name] as unknown as C;
  return new Proxy(placeholder, {
    construct(_target, args) {
      built ??= build();
      return Reflect.construct(built, args) as object;
    },
    get(target, property, receiver) {
      if (property === Symbol.hasInstance) return (value: unknown) => built !== undefined && value instanceof built;
      return Reflect.get(target, property, receiver);
    },
  });
}
