import { readFile } from 'node:fs/promises';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import { compilePolicy, positioned } from './compile.js';
import { composeSource } from './compose/compose.js';
import { checkUnboundAttributes, type AttributeBindings } from './lint/unbound-attributes.js';
import { loadGuardrailPlugins } from './plugins.js';
import { lintPolicy, sortProblems, type LintOptions } from './lint.js';
import { MAX_DOCUMENT_DEPTH, readSourceFile, SourceError } from './load.js';
import { isPolicyError } from './policy-error.js';
import { formatJsonPath, type PathSegment, type PolicyProblem } from './problem.js';

/** One problem in a validation report. `line`/`column` are null when the problem has no place in the text. */
export interface ReportedProblem {
  message: string;
  /** JSON path inside the document, e.g. `rules[2].when.input.amount`; empty for the whole file. */
  path: string;
  /** The file the problem is in when it is not the validated file: a pack or file it includes. */
  file?: string;
  line: number | null;
  column: number | null;
  /** Stable identifier: `schema`, `compile`, `syntax`, `unreadable`, `redos`, `never-matches`, … */
  code: string;
  hint?: string;
}

/** The result of validating one file; the shape of each entry of `agentguard policy validate --json`. */
export interface FileReport {
  file: string;
  valid: boolean;
  errors: ReportedProblem[];
  warnings: ReportedProblem[];
}

/** The result of validating several files (`agentguard policy validate --json`). */
export interface ValidationResult {
  valid: boolean;
  files: FileReport[];
}

export interface ValidateOptions extends LintOptions {
  /** Warnings make a file invalid. */
  strict?: boolean;
  /** What agent tokens vouch for: given, conditions on `agent.*`/`context.*` fields an agent can choose are warnings (checkUnboundAttributes). */
  attributeBindings?: AttributeBindings;
}

/** Code of the error entry for a file that could not be read at all (missing, a directory, too large, no permission). */
export const UNREADABLE = 'unreadable';

/** True when the file could not be read, as opposed to being read and found invalid. */
export function isUnreadable(report: FileReport): boolean {
  return report.errors.some((e) => e.code === UNREADABLE);
}

function toReported(p: PolicyProblem): ReportedProblem {
  return { message: p.message, path: p.path, ...(p.file !== undefined ? { file: p.file } : {}), line: p.line ?? null, column: p.column ?? null, code: p.code, ...(p.hint ? { hint: p.hint } : {}) };
}

function fromSourceError(error: SourceError): ReportedProblem {
  const where = error.position ? `${error.filename}:${error.position.line}:${error.position.column}` : error.filename;
  const message = error.message.startsWith(`${where}: `) ? error.message.slice(where.length + 2) : error.message;
  return {
    message: error.syntax ? message : `cannot be read (${message})`,
    path: '',
    line: error.position?.line ?? null,
    column: error.position?.column ?? null,
    code: error.syntax ? 'syntax' : UNREADABLE,
    ...(error.actions[0] ? { hint: error.actions[0] } : {}),
  };
}

interface Located {
  line: number;
  column: number;
  segments: PathSegment[];
}

/**
 * Finds the field a syntax error is about, which the loader does not say: the key at the error's position (a duplicate
 * key), or the first value nested too deep. Reads the text again, but only for a file that already failed.
 */
async function locateSyntaxError(file: string, problem: ReportedProblem): Promise<ReportedProblem> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return problem;
  }
  if (text.trim() === '') return { ...problem, line: 1, column: 1 };
  const lineCounter = new LineCounter();
  let root: YamlNode | null;
  try {
    const doc = parseDocument(text, { lineCounter, logLevel: 'silent', uniqueKeys: false });
    if (doc.errors.length > 0) return problem;
    root = doc.contents as YamlNode | null;
  } catch {
    return problem;
  }
  if (problem.line === null) {
    const deep = tooDeep(root, lineCounter);
    return deep ? { ...problem, path: formatJsonPath(deep.segments), line: deep.line, column: deep.column } : problem;
  }
  // The text parses when repeated keys are allowed, so a key at the error's position is a repeated key.
  const repeated = keyAt(root, lineCounter, problem.line, problem.column ?? 1);
  if (!repeated) return problem;
  const key = repeated.segments[repeated.segments.length - 1];
  return {
    ...problem,
    path: formatJsonPath(repeated.segments),
    message: `${problem.message}: "${key}" appears twice in the same mapping`,
    hint: `Keep one "${key}": with repeated keys, which value wins depends on the tool that reads the file.`,
  };
}

function startOf(node: unknown, lineCounter: LineCounter): { line: number; column: number } | undefined {
  const range = (node as { range?: [number, number, number] } | null)?.range;
  if (!range) return undefined;
  const { line, col } = lineCounter.linePos(range[0]);
  return { line, column: col };
}

function children(node: unknown): Array<[PathSegment, unknown, unknown]> {
  if (isMap(node)) return node.items.filter(isPair).map((p) => [isScalar(p.key) ? String(p.key.value) : '?', p.key, p.value]);
  if (isSeq(node)) return node.items.map((item, i) => [i, item, item]);
  return [];
}

/** The first object or array nested deeper than the loader accepts. */
function tooDeep(root: unknown, lineCounter: LineCounter): Located | undefined {
  const stack: Array<[unknown, number, PathSegment[]]> = [[root, 1, []]];
  while (stack.length > 0) {
    const [node, depth, segments] = stack.pop()!;
    if (!isMap(node) && !isSeq(node)) continue;
    if (depth > MAX_DOCUMENT_DEPTH) {
      const at = startOf(node, lineCounter);
      return at && { ...at, segments };
    }
    for (const [segment, , value] of children(node).reverse()) stack.push([value, depth + 1, [...segments, segment]]);
  }
  return undefined;
}

/** The key that starts at a position (a repeated key is reported where its second occurrence starts). */
function keyAt(root: unknown, lineCounter: LineCounter, line: number, column: number): Located | undefined {
  const stack: Array<[unknown, PathSegment[]]> = [[root, []]];
  while (stack.length > 0) {
    const [node, segments] = stack.pop()!;
    for (const [segment, key, value] of children(node)) {
      const here = [...segments, segment];
      const at = isMap(node) ? startOf(key, lineCounter) : undefined;
      if (at && at.line === line && at.column === column) return { ...at, segments: here };
      stack.push([value, here]);
    }
  }
  return undefined;
}

/**
 * Reads, compiles and lints one policy file and reports every problem with its position. Never throws for a bad or
 * unreadable file: syntax errors are errors in the report, and an unreadable file is an error with code `unreadable`.
 *
 * @example
 * const report = await validatePolicyFile('agentguard/policy.yaml');
 * if (!report.valid) for (const e of report.errors) console.error(`${report.file}:${e.line}:${e.column} ${e.path}: ${e.message}`);
 */
export async function validatePolicyFile(file: string, options: ValidateOptions = {}): Promise<FileReport> {
  let source;
  try {
    source = await readSourceFile(file);
  } catch (error) {
    if (!(error instanceof SourceError)) throw error;
    const problem = fromSourceError(error);
    return finish(file, [error.syntax ? await locateSyntaxError(file, problem) : problem], [], options);
  }
  let policy;
  try {
    const guardrails = await loadGuardrailPlugins(source);
    source = composeSource(source);
    policy = compilePolicy(source, { guardrails });
  } catch (error) {
    if (!isPolicyError(error)) throw error;
    return finishProblems(file, error.problems, options);
  }
  const problems = await lintPolicy(source, policy, options);
  if (options.attributeBindings) problems.push(...positioned(source, checkUnboundAttributes(policy.document, options.attributeBindings)));
  return finishProblems(file, problems, options);
}

function finishProblems(file: string, problems: PolicyProblem[], options: ValidateOptions): FileReport {
  const sorted = sortProblems(problems);
  return finish(
    file,
    sorted.filter((p) => p.severity === 'error').map(toReported),
    sorted.filter((p) => p.severity === 'warning').map(toReported),
    options,
  );
}

function finish(file: string, errors: ReportedProblem[], warnings: ReportedProblem[], options: ValidateOptions): FileReport {
  return { file, valid: errors.length === 0 && (!options.strict || warnings.length === 0), errors, warnings };
}

/** Validates several files one after another (recheck runs its checks one at a time, so running files at once gains nothing). */
export async function validatePolicyFiles(files: readonly string[], options: ValidateOptions = {}): Promise<ValidationResult> {
  const reports: FileReport[] = [];
  for (const file of files) reports.push(await validatePolicyFile(file, options));
  return { valid: reports.every((r) => r.valid), files: reports };
}
