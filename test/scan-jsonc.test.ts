import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { editJsonc, JsoncEditError, parseJsonc } from '../src/scan/mcp/jsonc.js';

const valueOf = (text: string, strict = false): unknown => {
  const parsed = parseJsonc(text, { strict });
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.value;
};

/** Lines of pretty JSON with a comment at the end of each and a trailing comma before each closing bracket. */
function withCommentsAndTrailingCommas(text: string): string {
  const lines = text.split('\n');
  return lines
    .map((line, n) => {
      const next = lines[n + 1]?.trim() ?? '';
      const closes = next.startsWith('}') || next.startsWith(']');
      const opens = line.endsWith('{') || line.endsWith('[');
      return `${line}${closes && !opens ? ',' : ''} // note ${n} "quoted", /* not a block */`;
    })
    .join('\n');
}

describe('parseJsonc', () => {
  it('reads a VS Code mcp.json with comments and trailing commas, and strings that look like them', () => {
    const text = [
      '{',
      '  // Servers for this workspace',
      '  "servers": {',
      '    /* the files server */ "files": { "command": "npx", "args": ["-y", "@mcp/files", "//not-a-comment",], },',
      '    "web": { "url": "https://x.test/*path*/", "note": "a,}b\\"//c" },',
      '  },',
      '}',
    ].join('\n');
    expect(valueOf(text)).toEqual({
      servers: {
        files: { command: 'npx', args: ['-y', '@mcp/files', '//not-a-comment'] },
        web: { url: 'https://x.test/*path*/', note: 'a,}b"//c' },
      },
    });
  });

  it('reads any JSON document as JSON.parse does, strict or not', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.integer({ min: 0, max: 4 }), (value, indent) => {
        const text = JSON.stringify(value, null, indent);
        const expected = JSON.stringify(JSON.parse(text));
        expect(JSON.stringify(valueOf(text))).toBe(expected);
        expect(JSON.stringify(valueOf(text, true))).toBe(expected);
      }),
    );
  });

  it('reads comments and trailing commas leniently to the same value, and refuses them when strict', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue(), { minKeys: 1 }), (value) => {
        const text = withCommentsAndTrailingCommas(JSON.stringify(value, null, 2));
        expect(JSON.stringify(valueOf(text))).toBe(JSON.stringify(JSON.parse(JSON.stringify(value))));
        expect(parseJsonc(text, { strict: true }).ok).toBe(false);
      }),
    );
  });

  it.each([
    ['{\n  "a": 1,\n}', true, 'Expected double-quoted property name at 3:1'],
    ['[1,\n 2,]', true, 'Expected a value at 2:4'],
    ['{\n  // c\n  "a": 1\n}', true, 'Comments are not allowed in JSON at 2:3'],
    ['{\n "a": [1', false, "Expected ',' or ']' after array element at 2:9"],
    ['{"a": 1', false, "Expected ',' or '}' after property value at 1:8"],
    ['{"a": [1 2]}', false, "Expected ',' or ']' after array element at 1:10"],
    ['{"a": 1 "b": 2}', false, "Expected ',' or '}' after property value at 1:9"],
    ['{\n  "a" 1\n}', false, "Expected ':' after property name at 2:7"],
    ['{\n "a": tru', false, 'Unexpected character at 2:7'],
    ['{"a": "x', false, 'Unterminated string at 1:7'],
    ['{"a": "\\q"}', false, 'Bad escaped character in string at 1:7'],
    ['{"a": 1} 2', false, 'Unexpected text after the end of the document at 1:10'],
    ['{"a": 1} x', false, 'Unexpected character at 1:10'],
    ['{ /* open', false, 'Unterminated comment at 1:3'],
  ])('reports where %j breaks (strict: %s)', (text, strict, message) => {
    const parsed = parseJsonc(text, { strict });
    expect(parsed).toMatchObject({ ok: false, message });
    const [line, column] = message.split(' at ').pop()!.split(':').map(Number);
    expect(parsed).toMatchObject({ line, column });
  });

  it('never quotes the document in an error (configs hold secrets)', () => {
    const parsed = parseJsonc('{"env": {"TOKEN": sk-live-0123456789}}');
    expect(parsed.ok).toBe(false);
    expect(JSON.stringify(parsed)).not.toContain('sk-live');
  });

  it('keeps a key named __proto__ as an own key, keeps the last of repeated keys, and makes plain objects', () => {
    const value = valueOf('{"__proto__": {"polluted": true}, "a": 1, "a": 2}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value)).toEqual(['__proto__', 'a']);
    expect(value.polluted).toBeUndefined();
    expect(value.a).toBe(2);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('gives no value for a lenient document of only comments, and refuses it when strict', () => {
    expect(parseJsonc('// nothing configured yet\n')).toEqual({ ok: true, value: undefined });
    expect(parseJsonc('// nothing\n', { strict: true }).ok).toBe(false);
  });

  it('refuses a document nested deeper than it can read instead of crashing', () => {
    expect(parseJsonc('['.repeat(200_000))).toEqual({ ok: false, message: 'Nested too deeply to read at 1:1', line: 1, column: 1 });
  });
});

describe('editJsonc', () => {
  const settings = [
    '{',
    '\t// Editor settings, kept by hand',
    '\t"editor.fontSize": 14, /* big */',
    '\t"mcp": {',
    '\t\t"servers": {',
    '\t\t\t"old": { "command": "node", "args": ["old.js"] },',
    '\t\t},',
    '\t},',
    '}',
    '',
  ].join('\n');

  it('adds a server while keeping comments, tabs and every other line', () => {
    const edited = editJsonc(settings, ['mcp', 'servers', 'agentguard'], { command: 'npx', args: ['agentguard', 'mcp'] });
    expect(edited).toContain('\t// Editor settings, kept by hand\n\t"editor.fontSize": 14, /* big */\n');
    // The new server goes first, so no existing line is laid out anew.
    expect(edited).toContain('\t\t"servers": {\n\t\t\t"agentguard": {\n\t\t\t\t"command": "npx",');
    expect(edited).toContain('\t\t\t},\n\t\t\t"old": { "command": "node", "args": ["old.js"] },\n\t\t},\n\t},\n}\n');
    expect(valueOf(edited)).toEqual({
      'editor.fontSize': 14,
      mcp: { servers: { old: { command: 'node', args: ['old.js'] }, agentguard: { command: 'npx', args: ['agentguard', 'mcp'] } } },
    });
  });

  it('replaces and removes an entry, touching nothing else', () => {
    const replaced = editJsonc(settings, ['editor.fontSize'], 16);
    expect(replaced).toBe(settings.replace('"editor.fontSize": 14', '"editor.fontSize": 16'));
    const removed = editJsonc(settings, ['mcp', 'servers', 'old'], undefined);
    // The only server had a trailing comma: it goes with the server (jsonc-parser alone would leave `{ , }`).
    expect(removed).toBe(settings.replace('\t\t\t"old": { "command": "node", "args": ["old.js"] },\n', ''));
    expect(valueOf(removed)).toEqual({ 'editor.fontSize': 14, mcp: { servers: {} } });
  });

  it('keeps CRLF line endings and the indent width of the file', () => {
    const text = '{\r\n    "mcpServers": {}\r\n}\r\n';
    const edited = editJsonc(text, ['mcpServers', 'a'], { command: 'x' });
    expect(edited).toBe('{\r\n    "mcpServers": {\r\n        "a": {\r\n            "command": "x"\r\n        }\r\n    }\r\n}\r\n');
  });

  it('writes a new document into an empty file', () => {
    expect(valueOf(editJsonc('', ['mcpServers', 'a'], { command: 'x' }), true)).toEqual({ mcpServers: { a: { command: 'x' } } });
  });

  it('refuses a document that does not parse, and a path through a value that is not a container', () => {
    expect(() => editJsonc('{"a": 1', ['b'], 2)).toThrow(JsoncEditError);
    expect(() => editJsonc('{"a": 1', ['b'], 2)).toThrow("cannot edit a document that does not parse: Expected ',' or '}' after property value at 1:8");
    expect(() => editJsonc('{"a": 1, // c\n}', ['b'], 2, { strict: true })).toThrow(/Comments are not allowed in JSON at 1:10/);
    expect(() => editJsonc('{"a": 1}', ['a', 'b'], 2)).toThrow(JsoncEditError);
  });

  it('sets and removes any key, leaving the other keys as they were', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), fc.string(), fc.jsonValue(), (doc, key, value) => {
        const text = withCommentsAndTrailingCommas(JSON.stringify(doc, null, 2));
        const edited = editJsonc(text, [key], value);
        const expected = JSON.parse(JSON.stringify(doc)) as Record<string, unknown>;
        Object.defineProperty(expected, key, { value: JSON.parse(JSON.stringify(value)), enumerable: true, writable: true, configurable: true });
        const actual = valueOf(edited) as Record<string, unknown>;
        expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
        for (const k of Object.keys(expected)) expect(JSON.stringify(actual[k])).toBe(JSON.stringify(expected[k]));
        const removed = valueOf(editJsonc(edited, [key], undefined)) as Record<string, unknown>;
        expect(Object.keys(removed).sort()).toEqual(Object.keys(expected).filter((k) => k !== key).sort());
      }),
    );
  });
});
