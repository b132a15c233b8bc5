import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Decision } from '../src/core/action.js';
import { promptCheck, resourceCheck, resultCheck } from '../src/mcp/actions.js';
import { LineSplitter, parseLine, serialize } from '../src/mcp/jsonrpc.js';

const session = { id: 'mcp_test', transport: 'stdio' as const };

const message = fc.oneof(
  fc.record({ jsonrpc: fc.constant('2.0'), id: fc.oneof(fc.integer(), fc.string({ minLength: 1 })), method: fc.string({ minLength: 1 }), params: fc.dictionary(fc.string(), fc.jsonValue()) }),
  fc.record({ jsonrpc: fc.constant('2.0'), method: fc.string({ minLength: 1 }) }),
  fc.record({ jsonrpc: fc.constant('2.0'), id: fc.integer(), result: fc.dictionary(fc.string(), fc.jsonValue()) }),
);

describe('MCP stdio framing', () => {
  it('yields every message exactly once, however the byte stream is cut', () => {
    fc.assert(
      fc.property(fc.array(message, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 10 }), (messages, cuts) => {
        const bytes = Buffer.from(messages.map(serialize).join(''), 'utf8');
        const lines: string[] = [];
        const splitter = new LineSplitter((line) => lines.push(line), () => expect.fail('no line is oversized'));
        const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        let at = 0;
        for (const point of [...points, bytes.length]) {
          splitter.push(bytes.subarray(at, point));
          at = point;
        }
        expect(lines.map((line) => JSON.parse(line))).toEqual(JSON.parse(JSON.stringify(messages)));
      }),
    );
  });

  it('parses a valid message as it is, and answers anything else with -32700 or -32600, never a throw', () => {
    fc.assert(
      fc.property(message, (m) => {
        const parsed = parseLine(JSON.stringify(m));
        expect(parsed.ok && parsed.message).toEqual(JSON.parse(JSON.stringify(m)));
      }),
    );
    fc.assert(
      fc.property(fc.string(), (line) => {
        const parsed = parseLine(line);
        if (!parsed.ok) expect([-32700, -32600]).toContain(parsed.error.error.code);
      }),
    );
    expect(parseLine('{"jsonrpc":"2.0","id":4,"method":7}')).toMatchObject({ ok: false, error: { id: 4, error: { code: -32600 } } });
    expect(parseLine('[{"jsonrpc":"2.0","method":"a"}]')).toMatchObject({ ok: false, error: { id: null, error: { code: -32600 } } });
  });

  it('drops a line over the size bound and reports it, then reads the next line', () => {
    const lines: string[] = [];
    let oversized = 0;
    const splitter = new LineSplitter((line) => lines.push(line), () => oversized++, 16);
    splitter.push(Buffer.from('x'.repeat(10)));
    splitter.push(Buffer.from(`${'y'.repeat(10)}\n{"a":1}\n`));
    expect(oversized).toBe(1);
    expect(lines).toEqual(['{"a":1}']);
  });
});

describe('tool results as mcp_output actions', () => {
  const result = {
    content: [
      { type: 'text', text: 'mail bob@example.com' },
      { type: 'image', data: 'AAAA', mimeType: 'image/png' },
      { type: 'resource', resource: { uri: 'file:///a.txt', text: 'see bob@example.com' } },
    ],
    structuredContent: { email: 'bob@example.com' },
  };
  const decision = (effect: Decision['effect'], content?: unknown): Decision => ({
    id: 'dec_1',
    effect,
    action: { kind: 'mcp_output', name: 'demo.t', input: { content } },
    reasons: [],
    findings: [],
    policy: { name: 'p', hash: '' },
    elapsedUs: 0,
  });

  it('decides the texts, embedded text resources and structured content, in order', () => {
    const check = resultCheck('demo', 't', result, session);
    expect(check.action).toEqual({
      kind: 'mcp_output',
      name: 'demo.t',
      input: { content: ['mail bob@example.com', 'see bob@example.com', '{"email":"bob@example.com"}'] },
      context: { mcp: { server: 'demo', transport: 'stdio' }, session: { id: 'mcp_test' } },
    });
    expect(resultCheck('demo', 't', { content: [{ type: 'image', data: 'AAAA', mimeType: 'image/png' }] }, session).action).toBeUndefined();
  });

  it('writes a transform back into a copy, leaving the given result and other blocks untouched', () => {
    const before = structuredClone(result);
    const applied = resultCheck('demo', 't', result, session).apply(decision('transform', ['mail [EMAIL]', 'see [EMAIL]', '{"email":"[EMAIL]"}']));
    expect(applied).toEqual({
      ok: true,
      result: {
        content: [{ type: 'text', text: 'mail [EMAIL]' }, before.content[1], { type: 'resource', resource: { uri: 'file:///a.txt', text: 'see [EMAIL]' } }],
        structuredContent: { email: '[EMAIL]' },
      },
    });
    expect(result).toEqual(before);
  });

  it('refuses a transform that changes the number of texts or breaks the structured content', () => {
    const check = resultCheck('demo', 't', result, session);
    expect(check.apply(decision('transform', ['only one'])).ok).toBe(false);
    expect(check.apply(decision('transform', ['a', 'b', '{"email":'])).ok).toBe(false);
  });

  it('decides resources/read and prompts/get results under names no tool can have, and writes transforms back', () => {
    const resource = { contents: [{ uri: 'memo://a', text: 'mail bob@example.com' }, { uri: 'memo://b', blob: 'AAAA' }] };
    const r = resourceCheck('demo', 'memo://a', resource, session);
    expect(r.action).toMatchObject({ kind: 'mcp_output', name: 'demo.resources/read', input: { content: ['mail bob@example.com'], uri: 'memo://a' } });
    expect(r.apply(decision('transform', ['mail [EMAIL]']))).toEqual({ ok: true, result: { contents: [{ uri: 'memo://a', text: 'mail [EMAIL]' }, { uri: 'memo://b', blob: 'AAAA' }] } });
    const prompt = { messages: [{ role: 'user', content: { type: 'text', text: 'hi' } }, { role: 'user', content: { type: 'image', data: 'AAAA', mimeType: 'image/png' } }] };
    const p = promptCheck('demo', 'greet', prompt, session);
    expect(p.action).toMatchObject({ name: 'demo.prompts/get', input: { content: ['hi'], prompt: 'greet' } });
    expect(p.apply(decision('transform', ['hello']))).toMatchObject({ ok: true, result: { messages: [{ content: { text: 'hello' } }, prompt.messages[1]] } });
  });
});
