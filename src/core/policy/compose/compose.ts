import { existsSync, readdirSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { ParsedSource, Position, SourceError as SourceErrorType, SourceMap } from '../load.js';
import { SourceError } from '../load.js';
import { PolicyError } from '../policy-error.js';
import { formatJsonPath, type PathSegment, type PolicyProblem } from '../problem.js';
import { checkPolicySchema } from '../schema.js';
import type { GuardrailEntry, IncludeEntry, PolicyDocument, RuleDocument } from '../types.js';
import { majorOf, PACK_SCHEME, PACKS_DIR, parsePackSpec } from './packs.js';
import { resolveParams, substituteParams, type ParamDeclarations, type ParamProblem } from './params.js';
import { readIncludedFile } from './read.js';

/** What an include's prefix may be: a rule id's first part, without the "/" that joins it to the id. */
const PREFIX = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Deepest chain of nested includes accepted. */
export const MAX_INCLUDE_DEPTH = 16;

export interface ComposeOptions {
  /** Folder of the built-in packs (default: policies/ of the installed package). */
  packsDir?: string;
  /** Folder that file names in problems are shown relative to (default: the working directory). */
  cwd?: string;
  /** Values for the parameters the policy itself declares (a pack tested with other values than its defaults). */
  params?: Record<string, unknown>;
}

/** Where one rule of a composed policy comes from. */
export interface RuleOrigin {
  /** The rule's id in the composed policy, e.g. `readonly-db/no-write-sql`. */
  id: string;
  /** Its id in the file that defines it. */
  localId: string;
  /** That file, as shown to users. */
  file: string;
  line?: number;
  column?: number;
  /** The includes it came through, outermost first, e.g. [`agentguard:readonly-db@1.0.0`]; empty for the policy's own rules. */
  via: string[];
}

/** One file a policy includes (directly or through another include). */
export interface IncludedFile {
  /** As written in `include`: `agentguard:readonly-db@1`, `./team-rules.yaml`. */
  spec: string;
  /** The prefix its rules get (`readonly-db`). */
  prefix: string;
  /** Absolute path of the file. */
  path: string;
  /** The file as shown to users. */
  file: string;
  /** Set for a built-in pack. */
  pack?: { name: string; version: string };
  /** The parameter values it is compiled with (given ones and defaults). */
  params: Record<string, unknown>;
  /** The names of the parameters the including file sets. */
  paramsSet: string[];
  /** The includes it came through, outermost first. */
  via: string[];
}

/** How a policy was put together from its includes. */
export interface Composition {
  /** Every file read, absolute (the policy itself first when it has a path). */
  files: string[];
  includes: IncludedFile[];
  /** One entry per rule of the composed document, in its order. */
  origins: RuleOrigin[];
}

type Problem = PolicyProblem;

interface Unit {
  source: ParsedSource;
  /** The file as shown to users. */
  file: string;
  doc: PolicyDocument;
  rules: Array<{ rule: RuleDocument; origin: RuleOrigin; map?: SourceMap; index: number; file: string }>;
  guardrails: Array<{ name: string; entry: GuardrailEntry; file: string; source: ParsedSource }>;
}

/** True when a parsed document uses composition: it includes files, declares parameters or refers to one. */
export function usesComposition(data: unknown): boolean {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return false;
  return 'include' in data || 'params' in data || 'pack' in data || refersToParams((data as { rules?: unknown }).rules);
}

/** A `$param`, `$regex` or `$text` anywhere under a node (so a reference without `params` gets its own error). */
function refersToParams(node: unknown): boolean {
  const stack = [node];
  while (stack.length > 0) {
    const next = stack.pop();
    if (next === null || typeof next !== 'object') continue;
    if (!Array.isArray(next) && ('$param' in next || '$regex' in next || '$text' in next)) return true;
    stack.push(...(Array.isArray(next) ? next : Object.values(next)));
  }
  return false;
}

/**
 * Resolves a policy's `include`s (built-in packs `agentguard:<pack>[@<major>]` and paths relative to the including
 * file, nested, with cycle detection), checks and substitutes parameters, and returns one source whose document holds
 * every rule: the included ones first, in include order, with ids prefixed by the include (`readonly-db/no-write-sql`),
 * then the policy's own. Its source map points each rule at the file and line it was written in. Each file is checked
 * against the schema on its own, so positions stay exact. Throws PolicyError with every problem found; a source that
 * does not use composition is returned as it is.
 */
export function composeSource(source: ParsedSource, options: ComposeOptions = {}): ParsedSource {
  if (source.composition || (!usesComposition(source.data) && options.params === undefined)) return source;
  const cwd = options.cwd ?? process.cwd();
  const packsDir = options.packsDir ?? PACKS_DIR;
  const problems: Problem[] = [];
  const files: string[] = [];
  const includes: IncludedFile[] = [];
  const rootPath = source.filename.startsWith('<') ? undefined : resolve(source.filename);
  if (rootPath) files.push(rootPath);

  const show = (absolute: string) => {
    const rel = relative(cwd, absolute);
    return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : absolute;
  };
  const place = (src: ParsedSource, file: string | undefined, segments: PathSegment[], target: 'key' | 'value' = 'value'): Pick<Problem, 'line' | 'column' | 'file'> => {
    const at = src.sourceMap?.locate(segments, target);
    return { ...(at ? { line: at.line, column: at.column } : {}), ...(file !== undefined ? { file } : {}) };
  };
  const problem = (src: ParsedSource, file: string | undefined, segments: PathSegment[], code: string, message: string, hint?: string, target: 'key' | 'value' = 'value'): Problem => ({
    severity: 'error', code, message, path: formatJsonPath(segments), ...(hint ? { hint } : {}), ...place(src, file, segments, target),
  });

  /** Loads one file: parameters, substitution, schema, then its own includes. Undefined when it has errors. */
  const load = (src: ParsedSource, file: string | undefined, stack: string[], via: string[], given: { values?: Record<string, unknown>; from?: { src: ParsedSource; file: string | undefined; at: PathSegment[] }; label: string }): Unit | undefined => {
    const raw = src.data;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      const schema = checkPolicySchema(raw);
      problems.push(...schema.map((p) => problem(src, file, p.segments, p.code, p.message, p.hint, p.target)));
      return undefined;
    }
    const declared = (raw as { params?: unknown }).params;
    const declarationProblems = declarationsProblems(declared);
    if (declarationProblems.length > 0) {
      for (const p of declarationProblems) problems.push(problem(src, file, p.segments, 'schema', p.message, p.hint, p.target));
      return undefined;
    }
    const declarations = (declared ?? {}) as ParamDeclarations;
    const givenAt = given.from?.at ?? [];
    const resolved = resolveParams(declarations, given.values, givenAt, given.label);
    const substituted = substituteParams(raw, resolved.values, declarations);
    const paramProblems = [...resolved.problems, ...substituted.problems];
    if (paramProblems.length > 0) {
      for (const p of paramProblems) problems.push(paramProblem(p, src, file, given.from));
      return undefined;
    }
    const schema = checkPolicySchema(substituted.data);
    if (schema.length > 0) {
      problems.push(...schema.map((p) => problem(src, file, p.segments, p.code, p.message, p.hint, p.target)));
      return undefined;
    }
    const doc = substituted.data as PolicyDocument;
    if (doc.pack !== undefined && majorOf(doc.pack.version) === undefined) {
      problems.push(problem(src, file, ['pack', 'version'], 'schema', `${JSON.stringify(doc.pack.version)} is not a semantic version`, 'Write major.minor.patch, e.g. 1.0.0; agentguard:<pack>@<major> compares the major.'));
      return undefined;
    }
    const unit: Unit = { source: src, file: file ?? src.filename, doc, rules: [], guardrails: [] };
    const here = file === undefined ? rootPath : resolve(src.filename);
    const includeDir = here ? dirname(here) : cwd;
    (doc.include ?? []).forEach((entry, i) => {
      const included = loadInclude(entry, i, src, file, includeDir, here ? [...stack, here] : stack, via);
      if (included) merge(unit, included.unit, included.prefix, src, file, ['include', i]);
    });
    doc.rules.forEach((rule, index) => {
      const at = place(src, file, ['rules', index]);
      unit.rules.push({ rule, index, map: src.sourceMap, file: unit.file, origin: { id: rule.id, localId: rule.id, file: unit.file, ...lineOf(at), via } });
    });
    for (const [name, entry] of Object.entries(doc.guardrails ?? {})) unit.guardrails.push({ name, entry, file: unit.file, source: src });
    return unit;
  };

  const seenPrefixes = new WeakMap<Unit, Map<string, { at: Pick<Problem, 'line' | 'column' | 'file'>; spec: string; sample?: RuleOrigin }>>();

  const merge = (into: Unit, from: Unit, prefix: string, src: ParsedSource, file: string | undefined, at: PathSegment[]) => {
    let prefixes = seenPrefixes.get(into);
    if (!prefixes) seenPrefixes.set(into, (prefixes = new Map()));
    const spec = includeSpec((into.doc.include ?? [])[at[1] as number]);
    const earlier = prefixes.get(prefix);
    if (earlier && from.rules.length > 0) {
      const sample = from.rules[0];
      const where = (p: Pick<Problem, 'line' | 'column' | 'file'>) => `${p.file ?? into.file}:${p.line ?? '?'}:${p.column ?? '?'}`;
      const here = place(src, file, at);
      const ruleAt = earlier.sample ? `${earlier.sample.file}:${earlier.sample.line ?? '?'}` : '';
      problems.push(problem(src, file, at, 'duplicate-rule-id',
        `rule id "${prefix}/${sample.origin.id}" comes twice: from ${earlier.spec} included at ${where(earlier.at)}${ruleAt ? ` (rule at ${ruleAt})` : ''} and from ${spec} included here at ${where(here)} (rule at ${sample.origin.file}:${sample.origin.line ?? '?'})`,
        `Give one of the two includes its own prefix with as:, e.g. { pack: ${spec}, as: ${prefix}-2 }.`));
      return;
    }
    prefixes.set(prefix, { at: place(src, file, at), spec, sample: from.rules[0]?.origin });
    for (const r of from.rules) {
      const id = `${prefix}/${r.origin.id}`;
      into.rules.push({ ...r, rule: { ...r.rule, id }, origin: { ...r.origin, id } });
    }
    into.guardrails.push(...from.guardrails);
  };

  const loadInclude = (entry: IncludeEntry, i: number, src: ParsedSource, file: string | undefined, baseDir: string, stack: string[], via: string[]): { unit: Unit; prefix: string } | undefined => {
    const spec = includeSpec(entry);
    const at: PathSegment[] = typeof entry === 'string' ? ['include', i] : ['include', i, 'pack'];
    const fail = (message: string, hint?: string) => void problems.push(problem(src, file, at, 'include', message, hint));
    if (stack.length >= MAX_INCLUDE_DEPTH) return void fail(`includes are nested more than ${MAX_INCLUDE_DEPTH} deep`, 'Flatten the includes.');
    let path: string;
    let pack: { name: string; version: string } | undefined;
    if (spec.startsWith(PACK_SCHEME)) {
      const parsed = parsePackSpec(spec);
      if (typeof parsed === 'string') return void fail(`"${spec}" is not a pack name: ${parsed}`, `Installed packs: ${installedPacks(packsDir).join(', ')}.`);
      path = join(packsDir, parsed.name, 'policy.yaml');
      if (!existsSync(path)) {
        const installed = installedPacks(packsDir);
        return void fail(`no pack "${parsed.name}" in this agentguard`, `Installed packs: ${installed.join(', ') || 'none'}.${suggestPack(parsed.name, installed)}`);
      }
      pack = { name: parsed.name, version: '' };
    } else if (spec.startsWith('./') || spec.startsWith('../') || isAbsolute(spec)) {
      path = resolve(baseDir, spec);
    } else {
      return void fail(`cannot include "${spec}"`, 'Include a built-in pack (agentguard:readonly-db, agentguard:shell-safety@1) or a file by a path starting with ./ or ../ (relative to this file).');
    }
    if (stack.includes(path)) {
      const chain = [...stack.slice(stack.indexOf(path)), path].map(show).join(' → ');
      return void fail(`include cycle: ${chain}`, 'A file cannot include itself, directly or through other files; remove one include of the cycle.');
    }
    let included: ParsedSource;
    try {
      included = readIncludedFile(path);
    } catch (error) {
      if (!(error instanceof SourceError)) throw error;
      const sourceError = error as SourceErrorType;
      if (sourceError.syntax) {
        problems.push({ severity: 'error', code: 'syntax', message: stripWhere(sourceError), path: '', file: show(path), ...(sourceError.position ? { line: sourceError.position.line, column: sourceError.position.column } : {}), ...(sourceError.actions[0] ? { hint: sourceError.actions[0] } : {}) });
        return undefined;
      }
      return void fail(`cannot include ${show(path)}: ${stripWhere(sourceError)}`, 'A relative include is relative to the file that includes it.');
    }
    files.push(path);
    const shown = show(path);
    if (pack) {
      const declared = (included.data as { pack?: { version?: unknown } } | null)?.pack?.version;
      if (typeof declared !== 'string' || majorOf(declared) === undefined) {
        return void problems.push(problem(included, shown, ['pack'], 'include', `pack "${pack.name}" does not declare its version (pack: { version: 1.0.0 })`, 'Every built-in pack declares a semantic version; reinstall agentguard.'));
      }
      pack.version = declared;
      const wanted = parsePackSpec(spec) as { major?: number };
      if (wanted.major !== undefined && majorOf(declared) !== wanted.major) {
        return void fail(
          `${spec} asks for major version ${wanted.major} of pack "${pack.name}", but this agentguard ships ${pack.name} ${declared}`,
          `Change it to ${PACK_SCHEME}${pack.name}@${majorOf(declared)} after reading what changed in the pack, or install the agentguard release that ships major ${wanted.major}.`,
        );
      }
    }
    const label = pack ? `${PACK_SCHEME}${pack.name}@${pack.version}` : shown;
    const given = typeof entry === 'string' ? undefined : entry.params;
    const unit = load(included, shown, stack, [...via, label], { values: given, from: { src, file, at: ['include', i, 'params'] }, label: pack ? `pack ${pack.name}` : shown });
    if (!unit) return undefined;
    const prefix = (typeof entry === 'string' ? undefined : entry.as) ?? pack?.name ?? unit.doc.name;
    if (!PREFIX.test(prefix)) {
      const at: PathSegment[] = typeof entry !== 'string' && entry.as !== undefined ? ['include', i, 'as'] : ['include', i];
      return void problems.push(problem(src, file, at, 'include', `"${prefix}" cannot prefix rule ids`, 'Use a letter or digit, then letters, digits, ".", "_" or "-" (as: team-rules).'));
    }
    const declarations = (unit.doc.params ?? {}) as ParamDeclarations;
    const resolvedParams = resolveParams(declarations, given, [], label).values;
    includes.push({ spec, prefix, path, file: shown, ...(pack ? { pack } : {}), params: resolvedParams, paramsSet: Object.keys(given ?? {}), via });
    return { unit, prefix };
  };

  const root = load(source, undefined, [], [], { label: 'this policy', ...(options.params ? { values: options.params } : {}) });
  if (problems.length > 0 || !root) throw new PolicyError(source.filename, problems);

  const guardrails = mergeGuardrails(root, problems, place);
  if (problems.length > 0) throw new PolicyError(source.filename, problems);

  // Included rules first (in include order), then the policy's own, as they were gathered.
  const ordered = [...root.rules.filter((r) => r.origin.via.length > 0), ...root.rules.filter((r) => r.origin.via.length === 0)];
  // The composed document holds what was resolved, not how: no include, params or pack of its own.
  const rest: PolicyDocument = { ...root.doc };
  delete rest.include;
  delete rest.params;
  delete rest.pack;
  const data: PolicyDocument = { ...rest, ...(Object.keys(guardrails).length > 0 ? { guardrails } : {}), rules: ordered.map((r) => r.rule) };
  return {
    filename: source.filename,
    data,
    sourceMap: composedSourceMap(source, ordered),
    composition: { files, includes, origins: ordered.map((r) => r.origin) },
  };
}

function lineOf(at: { line?: number; column?: number }): { line?: number; column?: number } {
  return { ...(at.line !== undefined ? { line: at.line } : {}), ...(at.column !== undefined ? { column: at.column } : {}) };
}

const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `params` must map names a `{name}` placeholder can hold to JSON Schema objects. */
function declarationsProblems(value: unknown): Array<{ segments: PathSegment[]; message: string; hint?: string; target?: 'key' | 'value' }> {
  if (value === undefined) return [];
  const example = 'For example params: { tables: { type: array, items: { type: string }, default: [] } }.';
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [{ segments: ['params'], message: 'params must map each parameter name to a JSON Schema', hint: example }];
  const out: Array<{ segments: PathSegment[]; message: string; hint?: string; target?: 'key' | 'value' }> = [];
  for (const [name, schema] of Object.entries(value)) {
    if (!PARAM_NAME.test(name)) out.push({ segments: ['params', name], target: 'key', message: `"${name}" cannot name a parameter`, hint: 'Start with a letter or "_", then letters, digits or "_" (a {name} placeholder holds nothing else), e.g. allowed_hosts or allowedHosts.' });
    else if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) out.push({ segments: ['params', name], message: `parameter "${name}" must be described by a JSON Schema object`, hint: example });
  }
  return out;
}

function includeSpec(entry: IncludeEntry | undefined): string {
  return typeof entry === 'string' ? entry : (entry?.pack ?? '');
}

function stripWhere(error: SourceErrorType): string {
  const where = error.position ? `${error.filename}:${error.position.line}:${error.position.column}: ` : `${error.filename}: `;
  return error.message.startsWith(where) ? error.message.slice(where.length) : error.message;
}

function installedPacks(packsDir: string): string[] {
  try {
    return readdirSync(packsDir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(join(packsDir, d.name, 'policy.yaml')))
      .map((d) => `${PACK_SCHEME}${d.name}`)
      .sort();
  } catch {
    return [];
  }
}

function suggestPack(name: string, installed: string[]): string {
  const close = installed.find((p) => p.slice(PACK_SCHEME.length).startsWith(name.slice(0, 4)));
  return close ? ` Did you mean "${close}"?` : '';
}

function paramProblem(p: ParamProblem, src: ParsedSource, file: string | undefined, from: { src: ParsedSource; file: string | undefined; at: PathSegment[] } | undefined): Problem {
  const [where, whereFile] = p.where === 'including' && from ? [from.src, from.file] : [src, file];
  const at = where.sourceMap?.locate(p.segments, p.target ?? 'value');
  return {
    severity: 'error', code: 'params', message: p.message, path: formatJsonPath(p.segments), ...(p.hint ? { hint: p.hint } : {}),
    ...(at ? { line: at.line, column: at.column } : {}), ...(whereFile !== undefined ? { file: whereFile } : {}),
  };
}

/** Guardrails of every file: one name configured twice must be configured the same; included files load no modules. */
function mergeGuardrails(root: Unit, problems: Problem[], place: (src: ParsedSource, file: string | undefined, segments: PathSegment[]) => Pick<Problem, 'line' | 'column' | 'file'>): Record<string, GuardrailEntry> {
  const out: Record<string, GuardrailEntry> = {};
  const from = new Map<string, string>();
  for (const g of root.guardrails) {
    const own = g.source === root.source;
    const file = own ? undefined : g.file;
    if (!own && g.entry.module !== undefined) {
      problems.push({ severity: 'error', code: 'include', message: `an included file cannot load guardrail plugin module "${g.entry.module}"`, path: formatJsonPath(['guardrails', g.name, 'module']), hint: 'Configure plugin guardrails in the policy that includes this file; included files configure built-in guardrails only.', ...place(g.source, file, ['guardrails', g.name, 'module']) });
      continue;
    }
    const existing = out[g.name];
    if (existing !== undefined && !isDeepStrictEqual(existing, g.entry)) {
      problems.push({ severity: 'error', code: 'include', message: `guardrail "${g.name}" is configured differently here and in ${from.get(g.name)}`, path: formatJsonPath(['guardrails', g.name]), hint: 'Give one of them another name (guardrails: { strict-pii: { use: pii, config: … } }) and use that name in its rules.', ...place(g.source, file, ['guardrails', g.name]) });
      continue;
    }
    out[g.name] = g.entry;
    from.set(g.name, g.file);
  }
  return out;
}

/** Positions of the composed document: a rule's paths in the file that defines it, everything else in the policy itself. */
function composedSourceMap(root: ParsedSource, rules: Unit['rules']): SourceMap {
  return {
    locate(path, target): Position | undefined {
      if (path[0] === 'rules' && typeof path[1] === 'number' && rules[path[1]]) {
        const r = rules[path[1]];
        return r.map?.locate(['rules', r.index, ...path.slice(2)], target);
      }
      return root.sourceMap?.locate(path, target);
    },
    fileAt(path): string | undefined {
      if (path[0] === 'rules' && typeof path[1] === 'number' && rules[path[1]] && rules[path[1]].origin.via.length > 0) return rules[path[1]].file;
      return undefined;
    },
  };
}
