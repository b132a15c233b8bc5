import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AgentGuard, Policy } from '../src/sdk/index.js';
import { windowCheck } from '../src/sdk/llm/output.js';
import { StreamGate } from '../src/sdk/llm/stream-gate.js';

// Item 10 of issue 16, in streamed answers: a value written longer than the hold-back (invisible characters, full-width
// forms) must not be released in part before the guardrails can see all of it.

const redacting = (guardrail: string, type: string) => ({
  id: `redact-${type}`,
  effect: 'transform',
  when: { kind: 'llm_output', detect: { guardrail, in: 'input.content', types: [type] } },
  transform: [{ redact: 'input.content', guardrail, types: [type] }],
});
/** One rule per guard, so the hold-back is that type's longest span (11 for an SSN, 265 for an OpenAI key). */
const guardFor = (guardrail: string, type: string) =>
  new AgentGuard({
    policy: Policy.parse({ version: 1, name: 'gate', rules: [{ id: 'answers', effect: 'allow', when: { kind: 'llm_output' } }, redacting(guardrail, type)] }),
    agentId: 'bot',
    audit: false,
  });
const SSN_GUARD = guardFor('pii', 'US_SSN');
const KEY_GUARD = guardFor('secrets', 'OPENAI_API_KEY');

/** Streams `pieces` through a gate; what reached the caller, and whether the stream was stopped. */
async function stream(pieces: string[], guard = SSN_GUARD): Promise<{ out: string; stopped: boolean }> {
  const gate = new StreamGate<{ text: string }>(windowCheck(guard, 'openai.gpt-4o'));
  let out = '';
  try {
    for (const text of pieces) {
      const piece = { text };
      gate.add(piece, [{ channel: '0', text, rewrite: (t) => (piece.text = t) }]);
      for (const p of await gate.release()) out += p.text;
    }
    for (const p of await gate.release(true)) out += p.text;
    return { out, stopped: false };
  } catch {
    return { out, stopped: true };
  }
}

const chunks = (text: string, size: number) => Array.from({ length: Math.ceil(text.length / size) }, (_, i) => text.slice(i * size, (i + 1) * size));
const padded = (value: string, pad: string) => [...value].join(pad);
const KEY = 'sk-proj-Xk9f2Lq7Rm4Tz8Wv1Bn6Yc3Hd5Gj0Pa2Se7Uq4Io9';

describe('stream gate and disguised values', () => {
  const cases: [string, string, string][] = [
    ['an SSN with a zero-width space between characters', padded('536-22-8726', '\u200B'), '<US_SSN>'],
    ['an SSN with three zero-width spaces between characters', padded('536-22-8726', '\u200B\u200B\u200B'), '<US_SSN>'],
    ['an SSN with twenty invisible characters between characters', padded('536-22-8726', '\u2060'.repeat(20)), '<US_SSN>'],
    ['a full-width SSN', '５３６-２２-８７２６', '<US_SSN>'],
    ['an SSN written as character references', [...'536-22-8726'].map((c) => `&#${c.charCodeAt(0)};`).join(''), '<US_SSN>'],
    ['a key with six zero-width joiners after every character (longer than its hold-back of 265)', padded(KEY, '\u200D'.repeat(6)), '<OPENAI_API_KEY>'],
  ];
  for (const [name, value, replacement] of cases) {
    it(`${name} is redacted whole, streamed a character or four at a time`, async () => {
      const text = `Your SSN is ${value} as requested, thanks for waiting.`;
      const guard = replacement === '<US_SSN>' ? SSN_GUARD : KEY_GUARD;
      for (const size of [1, 4]) {
        expect(await stream(chunks(text, size), guard)).toEqual({ out: `Your SSN is ${replacement} as requested, thanks for waiting.`, stopped: false });
      }
    });
  }

  it('property: however the answer is cut into chunks and however much padding, the SSN is never released whole', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 12 }), fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 30 }), async (pad, sizes) => {
        const text = `Your SSN is ${padded('536-22-8726', '\u200B'.repeat(pad))} as requested.`;
        const pieces: string[] = [];
        for (let at = 0, i = 0; at < text.length; i++) {
          const size = sizes[i % sizes.length];
          pieces.push(text.slice(at, at + size));
          at += size;
        }
        const { out } = await stream(pieces);
        expect(out.replace(/\u200B/g, '')).not.toContain('536-22-8726');
        expect(out.replace(/\u200B/g, '')).not.toContain('8726');
      }),
      { numRuns: 40 },
    );
  });

  it('plain text is held back exactly as before: the hold-back, counted in characters the guardrails read', async () => {
    const text = 'The refund arrives in five days. '.repeat(4);
    const { out, stopped } = await stream(chunks(text, 3));
    expect(stopped).toBe(false);
    expect(out).toBe(text);
    const ampersands = `${'&'.repeat(3000)}&#x35; fine`;
    expect(await stream(chunks(ampersands, 7))).toEqual({ out: ampersands, stopped: false });
  });
});
