import { markBuiltin } from '../guardrails/builtin-spec.js';
import { memoizeDetect } from '../guardrails/memo.js';
import { guardrailConfigProblems } from '../guardrails/config-problems.js';
import * as registry from '../guardrails/registry.js';
import { isGuardrail, isGuardrailFactory } from '../guardrails/shape.js';
import type { Guardrail, GuardrailFactory } from '../guardrails/types.js';
import { CompileProblem } from './conditions.js';
import type { PathSegment } from './problem.js';
import { suggest } from './schema.js';
import type { GuardrailEntry } from './types.js';

/** Guardrails given in code (`Policy.parse(doc, { guardrails })`) or loaded from plugin modules (an Error when loading failed), by name. */
export type GuardrailPlugins = ReadonlyMap<string, GuardrailFactory<any> | Guardrail | Error>;

/**
 * The guardrails a policy uses, created once at compile time: the entries under `guardrails` (built-ins with their
 * config, plugin modules) and, on first reference, built-ins with their defaults.
 */
export class GuardrailSet {
  readonly instances = new Map<string, Guardrail>();

  constructor(
    private readonly entries: Readonly<Record<string, GuardrailEntry>>,
    private readonly plugins: GuardrailPlugins,
  ) {}

  /** Creates every configured guardrail; problems carry the path of the offending entry. */
  createConfigured(): CompileProblem[] {
    const problems: CompileProblem[] = [];
    for (const name of Object.keys(this.entries)) {
      try {
        this.create(name, ['guardrails', name]);
      } catch (error) {
        if (error instanceof CompileProblem) problems.push(error);
        else throw error;
      }
    }
    return problems;
  }

  /** The guardrail a `detect` or `redact` names, creating a built-in with its defaults on first use. */
  resolve(name: string, at: PathSegment[]): Guardrail {
    return this.instances.get(name) ?? this.create(name, at);
  }

  private create(name: string, at: PathSegment[]): Guardrail {
    const entry = this.entries[name];
    const plugin = this.plugins.get(name);
    let factory: GuardrailFactory<any> | undefined;
    if (plugin instanceof Error) throw new CompileProblem(`guardrail "${name}": ${plugin.message}`, entry?.module ? [...at, 'module'] : at, 'Check the path (relative to the policy file) and that the module exports a guardrail factory.');
    if (plugin && isGuardrail(plugin) && !isGuardrailFactory(plugin)) {
      this.instances.set(name, plugin);
      return plugin;
    }
    if (plugin) factory = plugin as GuardrailFactory<any>;
    else if (entry?.module) {
      throw new CompileProblem(`the plugin module "${entry.module}" of guardrail "${name}" was not loaded`, [...at, 'module'], 'Load the policy with Policy.fromFile (which imports plugin modules), or pass the guardrail in Policy.parse(doc, { guardrails: { ... } }).');
    } else {
      const builtin = entry?.use ?? name;
      factory = registry.BUILTIN_GUARDRAILS.get(builtin);
      if (!factory) {
        const known = [...registry.BUILTIN_GUARDRAILS.keys(), ...Object.keys(this.entries), ...this.plugins.keys()];
        throw new CompileProblem(
          `unknown guardrail "${builtin}".${suggest(builtin, known)}`,
          entry?.use ? [...at, 'use'] : at,
          `Built-in guardrails: ${[...registry.BUILTIN_GUARDRAILS.keys()].join(', ')}. Add others under "guardrails" with a module.`,
        );
      }
    }
    const config = entry?.config ?? {};
    const problems = guardrailConfigProblems(factory, config);
    if (problems.length > 0) {
      throw new CompileProblem(`guardrail "${name}": ${problems.join('; ')}`, entry ? [...at, 'config'] : at, `See the options of "${factory.name}" with \`agentguard guardrails list --json\`.`);
    }
    let guardrail: Guardrail;
    try {
      guardrail = factory.create(config);
    } catch (error) {
      throw new CompileProblem(`guardrail "${name}" could not be set up: ${(error as Error).message}`, at);
    }
    // Built-in local guardrails are pure, so their findings per text are remembered; plugins and services are not.
    if (!plugin && !guardrail.async) {
      guardrail = memoizeDetect(guardrail);
      // A built-in can be built again in a worker thread from its name and config (see guardrails/workers).
      markBuiltin(guardrail, { use: factory.name, config });
    }
    this.instances.set(name, guardrail);
    return guardrail;
  }
}
