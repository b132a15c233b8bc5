import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import { AgentGuardError } from '../errors.js';
import type { PathSegment } from './problem.js';
import type { Composition } from './compose/compose.js';

/** Largest policy or test file read; larger files are rejected with a clear error. */
export const MAX_FILE_BYTES = 5 * 1024 * 1024;
/** Deepest nesting of objects and arrays accepted in a document. */
export const MAX_DOCUMENT_DEPTH = 64;

export interface Position {
  line: number;
  column: number;
}

/** Finds where a JSON path sits in the source text. */
export interface SourceMap {
  locate(path: readonly PathSegment[], target?: 'key' | 'value'): Position | undefined;
  /** The file a path sits in when it is not the source's own (a rule taken in by `include`). */
  fileAt?(path: readonly PathSegment[]): string | undefined;
}

export interface ParsedSource {
  filename: string;
  data: unknown;
  sourceMap?: SourceMap;
  /** Set once `include`s are resolved: `data` then holds every rule, and this says where each came from. */
  composition?: Composition;
}

/** A file that cannot be read or parsed. `position` is set for syntax errors. */
export class SourceError extends AgentGuardError {
  override name = 'SourceError';
  readonly filename: string;
  readonly position?: Position;
  /** True when the file exists and was read, but its content is not valid JSON/YAML. */
  readonly syntax: boolean;

  constructor(filename: string, message: string, options: { position?: Position; syntax?: boolean; actions?: string[]; cause?: unknown } = {}) {
    const where = options.position ? `${filename}:${options.position.line}:${options.position.column}` : filename;
    super(options.syntax ? 'SOURCE_SYNTAX' : 'SOURCE_UNREADABLE', `${where}: ${message}`, {
      actions: options.actions,
      cause: options.cause,
    });
    this.filename = filename;
    this.position = options.position;
    this.syntax = options.syntax ?? false;
  }
}

/** Reads a JSON or YAML file with positions. Throws SourceError. */
export async function readSourceFile(filename: string): Promise<ParsedSource> {
  let size: number;
  try {
    const info = await stat(filename);
    if (info.isDirectory()) throw new SourceError(filename, 'is a directory, not a file', { actions: ['Pass a policy file (.yaml, .yml or .json).'] });
    size = info.size;
  } catch (error) {
    if (error instanceof SourceError) throw error;
    throw unreadable(filename, error);
  }
  if (size > MAX_FILE_BYTES) {
    throw new SourceError(filename, `is ${size} bytes; the limit is ${MAX_FILE_BYTES} bytes`, {
      actions: ['Split the file, or check that this is really a policy file.'],
    });
  }
  let text: string;
  try {
    text = await readFile(filename, 'utf8');
  } catch (error) {
    throw unreadable(filename, error);
  }
  return parseSourceText(text, filename);
}

function unreadable(filename: string, error: unknown): SourceError {
  const code = (error as NodeJS.ErrnoException)?.code;
  const why =
    code === 'ENOENT' ? 'no such file' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : `cannot be read (${code ?? String(error)})`;
  return new SourceError(filename, why, { actions: ['Check the path and the file permissions.'], cause: error });
}

/** Parses JSON (strictly, when the name ends in .json or the text starts with `{`) or YAML, keeping positions. */
export function parseSourceText(text: string, filename = '<input>'): ParsedSource {
  if (text.length > MAX_FILE_BYTES) throw new SourceError(filename, `is larger than ${MAX_FILE_BYTES} bytes`);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '') {
    throw new SourceError(filename, 'the file is empty', { syntax: true, actions: ['Write a policy, or run `agentguard init` to create one.'] });
  }
  const ext = extname(filename).toLowerCase();
  const isJson = ext === '.json' || (ext !== '.yaml' && ext !== '.yml' && /^\s*[{[]/.test(text));
  const lineCounter = new LineCounter();
  if (isJson) {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (error) {
      const position = jsonErrorPosition(text, error);
      throw new SourceError(filename, `not valid JSON: ${cleanJsonMessage(error)}`, { position, syntax: true, cause: error });
    }
    checkDepth(data, filename);
    // JSON is YAML's flow syntax, so the YAML parser gives us positions for the same tree.
    // It also finds duplicate keys, which JSON.parse silently resolves to the last one.
    let sourceMap: SourceMap | undefined;
    let doc;
    try {
      doc = parseDocument(text, { lineCounter, logLevel: 'silent', prettyErrors: true, uniqueKeys: true });
    } catch {
      doc = undefined;
    }
    const duplicate = doc?.errors.find((e) => e.code === 'DUPLICATE_KEY');
    if (duplicate) {
      const pos = duplicate.linePos?.[0];
      throw new SourceError(filename, 'a key appears twice in the same object; JSON would silently keep only the last one', {
        position: pos ? { line: pos.line, column: pos.col } : undefined,
        syntax: true,
        actions: ['Remove or merge the repeated key.'],
      });
    }
    if (doc && doc.errors.length === 0) sourceMap = makeSourceMap(doc.contents as YamlNode | null, lineCounter);
    return { filename, data, sourceMap };
  }
  let doc;
  try {
    doc = parseDocument(text, { lineCounter, logLevel: 'silent', prettyErrors: true, uniqueKeys: true });
  } catch (error) {
    throw new SourceError(filename, `not valid YAML: ${(error as Error).message}`, { syntax: true, cause: error });
  }
  if (doc.errors.length > 0) {
    const first = doc.errors[0];
    const pos = first.linePos?.[0];
    const message = first.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    throw new SourceError(filename, `not valid YAML: ${message}`, {
      position: pos ? { line: pos.line, column: pos.col } : undefined,
      syntax: true,
      actions: ['Check indentation and quoting at that line; values with ":" or "#" need quotes.'],
    });
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    throw new SourceError(filename, `cannot be read as YAML: ${(error as Error).message}`, { syntax: true, cause: error });
  }
  if (data === null || data === undefined) {
    throw new SourceError(filename, 'the file has no content (only comments or an empty document)', { syntax: true });
  }
  checkDepth(data, filename);
  return { filename, data, sourceMap: makeSourceMap(doc.contents as YamlNode | null, lineCounter) };
}

function checkDepth(data: unknown, filename: string): void {
  const stack: Array<[unknown, number]> = [[data, 1]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (value === null || typeof value !== 'object') continue;
    if (depth > MAX_DOCUMENT_DEPTH) {
      throw new SourceError(filename, `nested more than ${MAX_DOCUMENT_DEPTH} levels deep`, {
        syntax: true,
        actions: ['Flatten the conditions: several keys in one `when` are already ANDed.'],
      });
    }
    for (const child of Array.isArray(value) ? value : Object.values(value)) stack.push([child, depth + 1]);
  }
}

function jsonErrorPosition(text: string, error: unknown): Position | undefined {
  const message = String((error as Error)?.message ?? '');
  const lineCol = /line (\d+) column (\d+)/.exec(message);
  if (lineCol) return { line: Number(lineCol[1]), column: Number(lineCol[2]) };
  const pos = /position (\d+)/.exec(message);
  if (pos) return offsetToPosition(text, Number(pos[1]));
  if (/Unexpected end of JSON input/.test(message)) return offsetToPosition(text, text.length);
  return undefined;
}

function cleanJsonMessage(error: unknown): string {
  return String((error as Error)?.message ?? error)
    .replace(/ in JSON at position \d+.*$/s, '')
    .replace(/ \(line \d+ column \d+\)$/, '');
}

export function offsetToPosition(text: string, offset: number): Position {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

function makeSourceMap(root: YamlNode | null, lineCounter: LineCounter): SourceMap {
  const position = (node: unknown): Position | undefined => {
    const range = (node as { range?: [number, number, number] } | null)?.range;
    if (!range) return undefined;
    const { line, col } = lineCounter.linePos(range[0]);
    return { line, column: col };
  };
  return {
    locate(path, target = 'value') {
      let node: unknown = root;
      let last: Position | undefined = position(root);
      for (let i = 0; i < path.length; i++) {
        const segment = path[i];
        if (isMap(node)) {
          const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(segment));
          if (!pair) return last;
          if (i === path.length - 1 && target === 'key') return position(pair.key) ?? last;
          node = pair.value;
          last = position(pair.value) ?? position(pair.key) ?? last;
        } else if (isSeq(node) && typeof segment === 'number') {
          node = node.items[segment];
          last = position(node) ?? last;
        } else {
          return last;
        }
      }
      return last;
    },
  };
}
