import type { Action, Effect } from '../action.js';
import { canonicalHash } from '../canonical-json.js';
import { compileCondition, compileKindNameGate, CompileProblem, indexValues, type CondNode } from './conditions.js';
import type { ParsedSource } from './load.js';
import { PolicyError } from './policy-error.js';
import { formatJsonPath, type PathSegment, type PolicyProblem } from './problem.js';
import { checkPolicySchema } from './schema.js';
import { compileStep, type CompiledStep } from './transforms.js';
import type { Condition, PolicyDocument, RuleDocument, TransformStep } from './types.js';
import { GuardrailSet, type GuardrailPlugins } from './guardrail-set.js';
import { contextVariantName, parseTextPaths, readerFor } from './detect.js';
import type { Guardrail } from '../guardrails/types.js';
import { compileRate, type CompiledRate } from './rate.js';
import { composeSource, type Composition } from './compose/compose.js';

/** A guardrail a rule's detect conditions or redact steps use, and the paths whose texts it reads. */
export interface Detection {
  name: string;
  guardrail: Guardrail;
  paths: string[][];
  /** The finding types the rule asks for (all when absent). */
  types?: readonly string[];
  /** Only for actions of the kinds this accepts (a context reader: data for tool results, messages for the rest). */
  appliesTo?: (kind: string) => boolean;
}

export interface CompileOptions {
  /** Guardrails given in code or loaded from plugin modules, by the name the policy uses. */
  guardrails?: GuardrailPlugins;
}

export interface CompiledRule {
  /** Position in the file; transforms apply in this order and reasons are listed in it. */
  index: number;
  id: string;
  effect: Effect;
  message?: string;
  condition?: CondNode;
  /** The leading kind/name part of `condition`, tested once per kind+name when candidates are cached. */
  gate?: CondNode;
  steps: CompiledStep[];
  /** The guardrails this rule's detect conditions and redact steps use; asynchronous ones run before evaluation. */
  detections: Detection[];
  kinds?: Set<string>;
  names?: Set<string>;
  source: RuleDocument;
  /** The rule's rate limit: allowed decisions that matched it take a slot of its counter (see core/rate). */
  rate?: CompiledRate;
}

export interface CompiledPolicy {
  name: string;
  hash: string;
  defaultEffect: 'allow' | 'deny';
  rules: CompiledRule[];
  document: PolicyDocument;
  /** Rules whose `name` condition is a fixed set of strings, by name. */
  byName: Map<string, CompiledRule[]>;
  /** Rules that may match any name. */
  anyName: CompiledRule[];
  /** Candidate rules per kind and name, filled on first sight and bounded. */
  candidates: CandidateCache;
  /** The guardrails the policy uses, by the name it uses (created at compile time). */
  guardrails: ReadonlyMap<string, Guardrail>;
  /** Where its rules come from, when the policy includes packs or files. */
  composition?: Composition;
}

export const CANDIDATE_CACHE_LIMIT = 10_000;

/**
 * Candidate rule lists by kind, then by name: two lookups with the action's own strings, so no key string is built
 * per decision. Holds at most CANDIDATE_CACHE_LIMIT lists and starts over when full, so odd names cannot grow it.
 */
export class CandidateCache {
  private readonly byKind = new Map<string, Map<string, CompiledRule[]>>();
  private size = 0;

  get(kind: string, name: string): CompiledRule[] | undefined {
    return this.byKind.get(kind)?.get(name);
  }

  set(kind: string, name: string, rules: CompiledRule[]): void {
    if (this.size >= CANDIDATE_CACHE_LIMIT) {
      this.byKind.clear();
      this.size = 0;
    }
    let byName = this.byKind.get(kind);
    if (!byName) this.byKind.set(kind, (byName = new Map()));
    byName.set(name, rules);
    this.size++;
  }
}

/** Adds source positions to problems that carry JSON path segments. */
export function positioned(source: ParsedSource, problems: Array<Omit<PolicyProblem, 'line' | 'column'> & { segments: PathSegment[]; target?: 'key' | 'value' }>): PolicyProblem[] {
  return problems.map(({ segments, target, ...p }) => {
    const pos = source.sourceMap?.locate(segments, target);
    const file = source.sourceMap?.fileAt?.(segments);
    const inFile = file !== undefined ? { ...p, file } : p;
    return pos ? { ...inFile, line: pos.line, column: pos.column } : inFile;
  });
}

/** Validates (schema, then semantics) and compiles a parsed policy. Throws PolicyError with every error found. */
export function compilePolicy(source: ParsedSource, options: CompileOptions = {}): CompiledPolicy {
  source = composeSource(source);
  // A composed document was checked file by file (its included rule ids carry a "/" no file may write).
  const schemaProblems = source.composition ? [] : checkPolicySchema(source.data);
  if (schemaProblems.length > 0) throw new PolicyError(source.filename, positioned(source, schemaProblems));
  const doc = source.data as PolicyDocument;
  const problems: Array<Omit<PolicyProblem, 'line' | 'column'> & { segments: PathSegment[]; target?: 'key' | 'value' }> = [];
  const seen = new Map<string, number>();
  const rules: CompiledRule[] = [];
  const guardrails = new GuardrailSet(doc.guardrails ?? {}, options.guardrails ?? new Map());
  for (const error of guardrails.createConfigured()) {
    problems.push({ severity: 'error', code: 'compile', message: error.message, hint: error.hint, path: formatJsonPath(error.segments), segments: error.segments });
  }
  doc.rules.forEach((rule, index) => {
    const at: PathSegment[] = ['rules', index];
    const earlier = seen.get(rule.id);
    if (earlier !== undefined) {
      problems.push({
        severity: 'error', code: 'duplicate-rule-id', message: `duplicate rule id "${rule.id}" (also rules[${earlier}])`,
        hint: 'Rule ids must be unique: tests and decisions refer to rules by id.', path: formatJsonPath([...at, 'id']), segments: [...at, 'id'],
      });
    } else seen.set(rule.id, index);
    if (rule.rate && rule.effect !== 'allow' && rule.effect !== 'transform') {
      problems.push({
        severity: 'error', code: 'compile', message: `rule "${rule.id}" has a rate limit but its effect is ${rule.effect}`,
        hint: 'A rate limits how often a rule allows: only rules with effect allow or transform take one. Only allowed actions are counted.', path: formatJsonPath([...at, 'rate']), segments: [...at, 'rate'],
      });
    }
    if (rule.approval && rule.effect !== 'require_approval') {
      problems.push({
        severity: 'error', code: 'compile', message: `rule "${rule.id}" has an approval block but its effect is ${rule.effect}`,
        hint: 'An approval block only applies to effect: require_approval; remove it, or change the effect.', path: formatJsonPath([...at, 'approval']), segments: [...at, 'approval'],
      });
    }
    try {
      rules.push({
        index,
        id: rule.id,
        effect: rule.effect,
        message: rule.message,
        condition: rule.when ? compileCondition(rule.when, [...at, 'when'], 1, guardrails) : undefined,
        gate: compileKindNameGate(rule.when, [...at, 'when']),
        steps: (rule.transform ?? []).map((s, i) => compileStep(s, [...at, 'transform', i], guardrails)),
        detections: detections(rule, guardrails),
        kinds: indexValues(rule.when, 'kind'),
        names: indexValues(rule.when, 'name'),
        source: rule,
        ...(rule.rate ? { rate: compileRate(rule.id, rule.rate, [...at, 'rate']) } : {}),
      });
    } catch (error) {
      if (!(error instanceof CompileProblem)) throw error;
      problems.push({ severity: 'error', code: 'compile', message: error.message, hint: error.hint, path: formatJsonPath(error.segments), segments: error.segments });
    }
  });
  if (problems.length > 0) throw new PolicyError(source.filename, positioned(source, problems));
  const byName = new Map<string, CompiledRule[]>();
  const anyName: CompiledRule[] = [];
  for (const rule of rules) {
    if (!rule.names) anyName.push(rule);
    else for (const n of rule.names) byName.set(n, [...(byName.get(n) ?? []), rule]);
  }
  return {
    name: doc.name,
    hash: canonicalHash(doc),
    defaultEffect: doc.default ?? 'deny',
    rules,
    document: doc,
    byName,
    anyName,
    candidates: new CandidateCache(),
    guardrails: guardrails.instances,
    ...(source.composition ? { composition: source.composition } : {}),
  };
}

/** The guardrails of a rule's detect conditions and redact steps (compiled already, so valid). */
function detections(rule: RuleDocument, guardrails: GuardrailSet): Detection[] {
  const out: Detection[] = [];
  const add = (name: string, paths: string[][], types: readonly string[] | undefined, appliesTo?: (kind: string) => boolean) => {
    const guardrail = guardrails.instances.get(name);
    if (guardrail) out.push({ name, guardrail, paths, ...(types ? { types } : {}), ...(appliesTo ? { appliesTo } : {}) });
  };
  const visit = (when: Condition | undefined) => {
    if (!when || typeof when !== 'object') return;
    for (const [key, spec] of Object.entries(when)) {
      if (key === 'all' || key === 'any') (spec as Condition[]).forEach(visit);
      else if (key === 'not') visit(spec as Condition);
      else if (key === 'detect' && spec && typeof spec === 'object') {
        const d = spec as { guardrail: string; in?: string | string[]; types?: string[]; as?: 'message' | 'data' };
        const paths = parseTextPaths(d.in, []);
        const base = guardrails.instances.get(d.guardrail);
        if (!base?.contextAware) add(d.guardrail, paths, d.types);
        else {
          // Each instance that may read these texts (see compileDetect), for the kinds it reads them for, so the work
          // prepared ahead of evaluation (in a worker thread) is the work the rule will ask for.
          const readers = [d.guardrail, contextVariantName(d.guardrail, 'data'), contextVariantName(d.guardrail, 'message')];
          for (const reader of readers) add(reader, paths, d.types, (kind) => readerFor(d.guardrail, d.as, kind) === reader || (reader === d.guardrail && !guardrails.instances.has(readerFor(d.guardrail, d.as, kind))));
        }
      }
    }
  };
  visit(rule.when);
  for (const step of rule.transform ?? ([] as TransformStep[])) {
    if ('redact' in step) add(step.guardrail, parseTextPaths(step.redact, []), step.types);
  }
  return out;
}

/** The rules that the kind and name indexes leave for an action, in file order. Not cached; `explainPolicy` shows these. */
export function indexedRules(policy: CompiledPolicy, kind: string, name: string): CompiledRule[] {
  const named = policy.byName.get(name);
  const merged = named ? mergeByIndex(named, policy.anyName) : policy.anyName;
  return merged.filter((r) => !r.kinds || r.kinds.has(kind));
}

/**
 * The rules that can match an action with this kind and name, in file order: `indexedRules` without those whose
 * kind/name gate rejects this kind and name. Cached, so each gate runs once per kind and name, not once per decision.
 */
export function candidateRules(policy: CompiledPolicy, kind: string, name: string): CompiledRule[] {
  const cached = policy.candidates.get(kind, name);
  if (cached) return cached;
  const probe = { kind, name } as Action;
  const result = indexedRules(policy, kind, name).filter((r) => passesGate(r, probe));
  policy.candidates.set(kind, name, result);
  return result;
}

/**
 * The longest span any guardrail of the rules that may apply to such an action can find (0 when none finds spans).
 * A stream of such text must hold back this many characters: a finding may still be completed by what comes next.
 */
export function holdBackFor(policy: CompiledPolicy, kind: string, name: string): number {
  let longest = 0;
  for (const rule of candidateRules(policy, kind, name)) {
    for (const { guardrail, types } of rule.detections) {
      const span = types && guardrail.maxSpanLengthOf ? guardrail.maxSpanLengthOf(types) : guardrail.maxSpanLength;
      if (Number.isFinite(span)) longest = Math.max(longest, span);
    }
  }
  return longest;
}

function passesGate(rule: CompiledRule, probe: Action): boolean {
  if (!rule.gate) return true;
  try {
    return rule.gate.test(probe);
  } catch {
    return true; // Keep the rule: deciding will hit the same error and handle it (fail closed).
  }
}

function mergeByIndex(a: CompiledRule[], b: CompiledRule[]): CompiledRule[] {
  const out: CompiledRule[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i].index < b[j].index)) out.push(a[i++]);
    else out.push(b[j++]);
  }
  return out;
}
