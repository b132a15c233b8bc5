import { dirname, resolve } from 'node:path';
import type { Action } from '../../action.js';
import { parseIsoTime } from '../../audit/filters.js';
import { readSourceFile, SourceError, type ParsedSource } from '../load.js';
import { formatJsonPath, type PathSegment } from '../problem.js';
import { displayPath } from './display-path.js';
import type { TestLoadProblem } from './load-error.js';
import { checkPolicyTestSchema } from './test-file-schema.js';
import type { Expectation, Location, PolicyTestFile } from './types.js';

/** A test file that passed validation, with what is needed to point at its parts later. */
export interface LoadedTestFile {
  test: PolicyTestFile;
  /** Builds a problem located at a path inside this test file. */
  problemAt(segments: PathSegment[], message: string, options?: { hint?: string; target?: 'key' | 'value' }): TestLoadProblem;
}

export type TestFileResult = { ok: true; loaded: LoadedTestFile } | { ok: false; problems: TestLoadProblem[] };

interface RawCase {
  name: string;
  action: Action;
  expect: Expectation;
  params?: Record<string, unknown>;
  at?: string;
}

/**
 * Reads and validates one test file (YAML or JSON). Never throws for bad input: every problem
 * is returned with the file, line, column, case and field it concerns.
 */
export async function readPolicyTestFile(path: string, cwd = process.cwd()): Promise<TestFileResult> {
  const absolute = resolve(cwd, path);
  const file = displayPath(absolute, cwd);
  let source: ParsedSource;
  try {
    source = await readSourceFile(absolute);
  } catch (error) {
    if (!(error instanceof SourceError)) throw error;
    return { ok: false, problems: [sourceProblem(error, 'test', file)] };
  }
  const problemAt = (segments: PathSegment[], message: string, options: { hint?: string; target?: 'key' | 'value' } = {}): TestLoadProblem => ({
    source: 'test',
    file,
    ...locate(source, segments, options.target),
    where: describePath(source.data, segments),
    message,
    hint: options.hint,
  });

  const schemaProblems = checkPolicyTestSchema(source.data);
  if (schemaProblems.length > 0) {
    return { ok: false, problems: schemaProblems.map((p) => problemAt(p.segments, p.message, { hint: p.hint, target: p.target })) };
  }
  const data = source.data as { policy: string; cases: RawCase[] };
  const problems: TestLoadProblem[] = [];
  const firstByName = new Map<string, number>();
  data.cases.forEach((c, index) => {
    const earlier = firstByName.get(c.name);
    if (earlier === undefined) firstByName.set(c.name, index);
    else problems.push(problemAt(['cases', index, 'name'], `duplicate case name (also cases[${earlier}])`, { hint: 'Give every case in a file its own name: reports refer to cases by name.' }));
    if (c.at !== undefined && parseIsoTime(c.at) === undefined) {
      problems.push(problemAt(['cases', index, 'at'], `${JSON.stringify(c.at)} is not a time`, { hint: 'Write an ISO 8601 date or time: 2026-03-27T16:30:00Z or 2026-03-27T16:30:00+01:00 (UTC unless it has an offset).' }));
    }
  });
  if (problems.length > 0) return { ok: false, problems };

  const policyPath = resolve(dirname(absolute), data.policy);
  return {
    ok: true,
    loaded: {
      problemAt,
      test: {
        path: absolute,
        file,
        policyPath,
        policyFile: displayPath(policyPath, cwd),
        cases: data.cases.map((c, index) => ({ index, name: c.name, action: c.action, expect: c.expect, ...(c.params ? { params: c.params } : {}), ...(c.at !== undefined ? { at: c.at } : {}), ...locate(source, ['cases', index]) })),
      },
    },
  };
}

/** Turns a SourceError into a problem, keeping its position but showing `file` as the name. */
export function sourceProblem(error: SourceError, kind: 'test' | 'policy', file: string): TestLoadProblem {
  const prefix = error.position ? `${error.filename}:${error.position.line}:${error.position.column}: ` : `${error.filename}: `;
  const message = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
  // The reader's hints for unreadable files talk about policy files; for a test file only its syntax hints apply.
  const hint = error.syntax || kind === 'policy' ? error.actions[0] : undefined;
  return { source: kind, file, line: error.position?.line, column: error.position?.column, message, hint };
}

function locate(source: ParsedSource, segments: PathSegment[], target: 'key' | 'value' = 'value'): Location {
  const position = source.sourceMap?.locate(segments, target);
  return position ? { line: position.line, column: position.column } : {};
}

/** `cases[2] "blocks DROP TABLE" expect.effect`: the case by index and name, then the field. */
function describePath(data: unknown, segments: PathSegment[]): string | undefined {
  if (segments.length === 0) return undefined;
  if (segments[0] !== 'cases' || typeof segments[1] !== 'number') return formatJsonPath(segments);
  const cases = (data as { cases?: unknown }).cases;
  const name = Array.isArray(cases) ? (cases[segments[1]] as { name?: unknown } | undefined)?.name : undefined;
  const label = typeof name === 'string' && name !== '' ? ` ${JSON.stringify(name.length > 60 ? `${name.slice(0, 60)}…` : name)}` : '';
  const rest = formatJsonPath(segments.slice(2));
  return `cases[${segments[1]}]${label}${rest ? ` ${rest}` : ''}`;
}
