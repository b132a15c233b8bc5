import type { Action, Decision } from '../action.js';
import type { Guardrail, GuardrailFactory } from '../guardrails/types.js';
import { compilePolicy, type CompiledPolicy, type CompileOptions } from './compile.js';
import { composeSource } from './compose/compose.js';
import { evaluatePolicy, explainPolicy, newEvalContext, type RuleTrace } from './evaluate.js';
import { parseSourceText, readSourceFile, type ParsedSource } from './load.js';
import { loadGuardrailPlugins } from './plugins.js';
import { assertRegexesSafe } from './regex-safety.js';
import type { PolicyDocument } from './types.js';

export interface PolicyParseOptions {
  filename?: string;
  /** Guardrails the policy names that are not built in (or replace a built-in), as factories or instances. */
  guardrails?: Record<string, GuardrailFactory<any> | Guardrail>;
}

/**
 * A validated, compiled policy.
 *
 * @example
 * const policy = await Policy.fromFile('agentguard/policy.yaml');
 * const decision = policy.evaluate({ kind: 'tool', name: 'db.query', input: { sql: 'DROP TABLE users' } });
 * if (decision.effect === 'allow' || decision.effect === 'transform') run(decision.action);
 */
export class Policy {
  readonly compiled: CompiledPolicy;
  readonly filename: string;
  private readonly source: ParsedSource;
  private regexCheck?: Promise<void>;

  private constructor(compiled: CompiledPolicy, source: ParsedSource) {
    this.compiled = compiled;
    this.filename = source.filename;
    this.source = source;
  }

  /**
   * Reads, validates and compiles a JSON or YAML policy file, importing the guardrail plugin modules it names, and
   * refuses it when a regex in it is open to catastrophic backtracking (see assertRegexesSafe). `params` gives values
   * for the parameters the file itself declares (a pack); its includes are resolved (see composeSource).
   * Throws SourceError or PolicyError.
   */
  static async fromFile(path: string, options: { params?: Record<string, unknown> } = {}): Promise<Policy> {
    const source = await readSourceFile(path);
    const policy = Policy.fromSource(source, { guardrails: await loadGuardrailPlugins(source), ...(options.params ? { params: options.params } : {}) });
    await policy.assertRegexesSafe();
    return policy;
  }

  /**
   * Validates and compiles policy text (JSON or YAML) or an already-parsed object. Plugin modules are not imported:
   * pass them in `guardrails`. Synchronous, so its regexes are not checked for catastrophic backtracking here:
   * `AgentGuard` checks them before the policy decides anything; call `assertRegexesSafe()` to check them yourself.
   */
  static parse(textOrObject: string | PolicyDocument | Record<string, unknown>, options: PolicyParseOptions = {}): Policy {
    const filename = options.filename ?? '<policy>';
    const source: ParsedSource = typeof textOrObject === 'string' ? parseSourceText(textOrObject, filename) : { filename, data: textOrObject };
    return Policy.fromSource(source, { guardrails: new Map(Object.entries(options.guardrails ?? {})) });
  }

  /** Resolves the policy's includes (see composeSource), then validates and compiles it. Throws PolicyError. */
  static fromSource(source: ParsedSource, options: CompileOptions & { params?: Record<string, unknown> } = {}): Policy {
    const composed = composeSource(source, options.params ? { params: options.params } : {});
    return new Policy(compilePolicy(composed, options), composed);
  }

  /**
   * Rejects (PolicyError, with positions) when a regex of this policy is catastrophic or could not be checked and is
   * not accepted with `unsafeRegex: true`. Checked once per Policy.
   */
  assertRegexesSafe(): Promise<void> {
    this.regexCheck ??= assertRegexesSafe(this.compiled, this.source);
    return this.regexCheck;
  }

  get name(): string {
    return this.compiled.name;
  }

  /** `sha256:…` of the canonical JSON of the policy document. */
  get hash(): string {
    return this.compiled.hash;
  }

  get document(): PolicyDocument {
    return this.compiled.document;
  }

  /** Decides an action synchronously, with no I/O. Never throws for a bad action: it denies. */
  evaluate(action: Action): Decision {
    return evaluatePolicy(this.compiled, action);
  }

  /** Every rule's match result, for explaining a decision; `now` is the decision's time for `time` conditions. */
  explain(action: Action, now?: Date): RuleTrace[] {
    return explainPolicy(this.compiled, action, newEvalContext(this.compiled, {}, {}, now));
  }
}
