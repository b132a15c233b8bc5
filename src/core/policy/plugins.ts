import { createRequire } from 'node:module';
import { dirname, isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isGuardrail, isGuardrailFactory } from '../guardrails/shape.js';
import type { GuardrailPlugins } from './guardrail-set.js';
import type { ParsedSource } from './load.js';
import type { GuardrailEntry } from './types.js';

/** The file a plugin `module:` names: relative to the policy file, absolute, or a package resolved from the policy's folder. Throws when a package cannot be found. */
export function pluginModulePath(policyFile: string, specifier: string): string {
  return specifier.startsWith('.') || isAbsolute(specifier) ? resolve(dirname(policyFile), specifier) : createRequire(policyFile).resolve(specifier);
}

/**
 * Imports the plugin modules named under a policy's `guardrails` (`module: ./ids.js` relative to the policy file, or a
 * package name resolved from it). A module exports a guardrail factory (or a guardrail) as `default` or `guardrail`.
 * A module that cannot be loaded maps to an Error, which compiling reports at the entry's `module`.
 */
export async function loadGuardrailPlugins(source: ParsedSource): Promise<GuardrailPlugins> {
  const entries = (source.data as { guardrails?: unknown })?.guardrails;
  const plugins = new Map<string, any>();
  if (entries === null || typeof entries !== 'object' || Array.isArray(entries)) return plugins;
  const base = source.filename.startsWith('<') ? resolve('policy') : resolve(source.filename);
  for (const [name, entry] of Object.entries(entries as Record<string, GuardrailEntry>)) {
    const specifier = entry?.module;
    if (typeof specifier !== 'string' || specifier === '') continue;
    try {
      const path = pluginModulePath(base, specifier);
      const module = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
      const exported = [module.default, module.guardrail].find((e) => isGuardrailFactory(e) || isGuardrail(e));
      plugins.set(name, exported ?? new Error(`"${specifier}" exports no guardrail (a default or "guardrail" export with name, configSchema and create, or name, types and detect)`));
    } catch (error) {
      plugins.set(name, new Error(`cannot load "${specifier}": ${(error as Error).message.split('\n')[0]}`));
    }
  }
  return plugins;
}
