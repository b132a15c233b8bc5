/**
 * JSON and JSONC (VS Code, Zed and Gemini settings: comments and trailing commas allowed) read and edited with
 * Microsoft's jsonc-parser, the parser VS Code itself uses, so a config reads here as it reads in the editor.
 */
import {
  applyEdits,
  createScanner,
  findNodeAtLocation,
  modify,
  parseTree,
  ParseErrorCode,
  SyntaxKind,
  visit,
  type FormattingOptions,
  type JSONPath,
} from 'jsonc-parser';
import { setOwnKey } from '../../core/own-key.js';

export type JsoncResult =
  | { ok: true; value: unknown }
  /** `message` ends with `at line:column` (1-based) of where the document breaks. */
  | { ok: false; message: string; line: number; column: number };

export interface JsoncOptions {
  /** Strict JSON: comments and trailing commas are errors (Claude, Cursor and Windsurf read their configs so). */
  strict?: boolean;
}

/** 1-based line and column of a character offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lines = before.split('\n');
  return { line: lines.length, column: lines[lines.length - 1].length + 1 };
}

/** Worded like V8's JSON.parse where there is an equivalent. Never quotes the text: configs hold secrets. */
function describe(code: ParseErrorCode, inArray: boolean): string {
  switch (code) {
    case ParseErrorCode.InvalidSymbol: return 'Unexpected character';
    case ParseErrorCode.InvalidNumberFormat: return 'Invalid number';
    case ParseErrorCode.PropertyNameExpected: return 'Expected double-quoted property name';
    case ParseErrorCode.ValueExpected: return 'Expected a value';
    case ParseErrorCode.ColonExpected: return "Expected ':' after property name";
    case ParseErrorCode.CommaExpected: return inArray ? "Expected ',' or ']' after array element" : "Expected ',' or '}' after property value";
    case ParseErrorCode.CloseBraceExpected: return "Expected ',' or '}' after property value";
    case ParseErrorCode.CloseBracketExpected: return "Expected ',' or ']' after array element";
    case ParseErrorCode.EndOfFileExpected: return 'Unexpected text after the end of the document';
    case ParseErrorCode.InvalidCommentToken: return 'Comments are not allowed in JSON';
    case ParseErrorCode.UnexpectedEndOfComment: return 'Unterminated comment';
    case ParseErrorCode.UnexpectedEndOfString: return 'Unterminated string';
    case ParseErrorCode.UnexpectedEndOfNumber: return 'Unterminated number';
    case ParseErrorCode.InvalidUnicode: return 'Bad Unicode escape in string';
    case ParseErrorCode.InvalidEscapeCharacter: return 'Bad escaped character in string';
    case ParseErrorCode.InvalidCharacter: return 'Bad control character in string';
    default: return 'Unreadable JSON';
  }
}

/**
 * Parses JSONC (or strict JSON with `{ strict: true }`) into plain objects as JSON.parse makes them: a key named
 * `__proto__` stays an own key, a repeated key keeps its last value. The first error is reported with its position;
 * a document with any error has no value. A lenient document of only comments and blanks has the value undefined.
 */
export function parseJsonc(text: string, options: JsoncOptions = {}): JsoncResult {
  const strict = options.strict === true;
  const root: unknown[] = [];
  const parents: Array<unknown[] | Record<string, unknown>> = [];
  let parent: unknown[] | Record<string, unknown> = root;
  let property = '';
  let failure: { code: ParseErrorCode; offset: number; inArray: boolean } | undefined;
  const place = (value: unknown) => {
    if (Array.isArray(parent)) parent.push(value);
    else setOwnKey(parent, property, value);
  };
  const open = (container: unknown[] | Record<string, unknown>) => {
    place(container);
    parents.push(parent);
    parent = container;
  };
  const close = () => {
    parent = parents.pop() ?? root;
  };
  try {
    visit(
      text,
      {
        onObjectBegin: () => open({}),
        onObjectProperty: (name) => {
          property = name;
        },
        onObjectEnd: close,
        onArrayBegin: () => open([]),
        onArrayEnd: close,
        onLiteralValue: place,
        onError: (code, offset) => {
          failure ??= { code, offset, inArray: Array.isArray(parent) && parent !== root };
        },
      },
      { disallowComments: strict, allowTrailingComma: !strict, allowEmptyContent: !strict },
    );
  } catch (error) {
    // The parser recurses once per nesting level; a document nested deeper than the stack is refused, not a crash.
    if (!(error instanceof RangeError)) throw error;
    return { ok: false, message: 'Nested too deeply to read at 1:1', line: 1, column: 1 };
  }
  if (failure) {
    const { line, column } = lineColumn(text, failure.offset);
    return { ok: false, message: `${describe(failure.code, failure.inArray)} at ${line}:${column}`, line, column };
  }
  return { ok: true, value: root[0] };
}

/** Indentation and line ending of an existing document, so inserted lines look like their neighbours. */
function formattingOf(text: string): FormattingOptions {
  const indent = /^[ \t]+(?=\S)/m.exec(text)?.[0];
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  if (indent?.startsWith('\t')) return { insertSpaces: false, tabSize: 1, eol };
  return { insertSpaces: true, tabSize: indent ? indent.length : 2, eol };
}

export class JsoncEditError extends Error {
  override name = 'JsoncEditError';
}

/**
 * Removing the only entry of an object leaves its trailing comma behind in jsonc-parser (`{ , }`, which no longer
 * parses): drop that comma first. Any other comment or blank stays.
 */
function withoutLoneTrailingComma(text: string, path: JSONPath): string {
  const root = parseTree(text, [], { allowTrailingComma: true });
  const parent = root && findNodeAtLocation(root, path.slice(0, -1));
  const only = parent?.type === 'object' && parent.children?.length === 1 ? parent.children[0] : undefined;
  if (!only || only.children?.[0]?.value !== path[path.length - 1]) return text;
  const scanner = createScanner(text, true);
  scanner.setPosition(only.offset + only.length);
  if (scanner.scan() !== SyntaxKind.CommaToken) return text;
  const comma = scanner.getTokenOffset();
  return text.slice(0, comma) + text.slice(comma + 1);
}

/**
 * Sets the value at `path` (object keys and array indexes; created when missing) and returns the new text. Comments,
 * formatting and every other line stay as they were: a new key goes before its siblings, since jsonc-parser lays
 * out anew the line it is appended to. `value` undefined removes the entry. A document that does not parse is
 * refused (an edit could land in the wrong place), as is a path through a value that is not a container.
 */
export function editJsonc(text: string, path: JSONPath, value: unknown, options: JsoncOptions = {}): string {
  const parsed = text.trim() === '' ? undefined : parseJsonc(text, options);
  if (parsed && !parsed.ok) throw new JsoncEditError(`cannot edit a document that does not parse: ${parsed.message}`);
  const base = value === undefined && path.length > 0 ? withoutLoneTrailingComma(text, path) : text;
  let edits;
  try {
    edits = modify(base, path, value, { formattingOptions: formattingOf(text), getInsertionIndex: () => 0 });
  } catch (error) {
    // jsonc-parser throws when the path runs through a string, number, boolean or null.
    throw new JsoncEditError(`cannot set ${JSON.stringify(path)}: ${(error as Error).message}`);
  }
  let edited = applyEdits(base, edits);
  if (text.trim() === '' && !edited.endsWith('\n')) edited += formattingOf(text).eol;
  const check = parseJsonc(edited, options);
  if (!check.ok) throw new JsoncEditError(`the edit would leave a document that does not parse: ${check.message}`);
  return edited;
}
