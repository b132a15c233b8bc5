import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AgentGuard, AgentGuardDeniedError, Policy } from '../src/sdk/index.js';
import { windowCheck } from '../src/sdk/llm/output.js';
import { StreamGate } from '../src/sdk/llm/stream-gate.js';

const guardFor = (rules: unknown[]) =>
  new AgentGuard({ policy: Policy.parse({ version: 1, name: 'gate', rules: [{ id: 'answers', effect: 'allow', when: { kind: 'llm_output' } }, ...rules] }), agentId: 'bot', audit: false });

const REDACT_EMAILS = {
  id: 'emails',
  effect: 'transform',
  when: { kind: 'llm_output', detect: { guardrail: 'pii', in: 'input.content', types: ['EMAIL_ADDRESS'] } },
  transform: [{ redact: 'input.content', guardrail: 'pii', types: ['EMAIL_ADDRESS'] }],
};
const EMAIL_HOLD_BACK = 254;

interface Piece {
  text: string;
}

/** Feeds the pieces one at a time; returns what was released after each, and at the end. */
async function run(gate: StreamGate<Piece>, pieces: string[]) {
  const steps: Array<{ fed: number; released: number }> = [];
  let fed = 0;
  let out = '';
  for (const text of pieces) {
    const piece = { text };
    gate.add(piece, [{ channel: '0', text, rewrite: (t) => (piece.text = t) }]);
    fed += text.length;
    for (const p of await gate.release()) out += p.text;
    steps.push({ fed, released: out.length });
  }
  for (const p of await gate.release(true)) out += p.text;
  return { steps, out };
}

const words = fc.array(fc.constantFrom('refund ', 'order ', 'days ', 'the ', 'five ', 'thanks. ', 'a', '\n'), { minLength: 1, maxLength: 200 });
const chunking = (text: string) =>
  fc.uniqueArray(fc.integer({ min: 1, max: Math.max(1, text.length - 1) }), { maxLength: 40 }).map((cuts) => {
    const sorted = [...cuts].filter((c) => c < text.length).sort((a, b) => a - b);
    return [0, ...sorted].map((start, i) => text.slice(start, sorted[i] ?? text.length));
  });

describe('StreamGate', () => {
  it('property: with nothing to find, everything but the hold-back window (and the chunk that straddles it) is released as it arrives', async () => {
    const guard = guardFor([REDACT_EMAILS]);
    await fc.assert(
      fc.asyncProperty(
        words.map((w) => w.join('')).chain((text) => chunking(text).map((pieces) => ({ text, pieces }))),
        async ({ text, pieces }) => {
          const { steps, out } = await run(new StreamGate<Piece>(windowCheck(guard, 'openai.m')), pieces);
          expect(out).toBe(text);
          steps.forEach(({ fed, released }, i) => {
            expect(released).toBeLessThanOrEqual(Math.max(0, fed - EMAIL_HOLD_BACK));
            expect(released).toBeGreaterThanOrEqual(fed - EMAIL_HOLD_BACK - pieces[i]!.length);
          });
        },
      ),
      { numRuns: 60 },
    );
  });

  it('property: addresses anywhere, split anywhere, come out redacted and never in pieces', async () => {
    const guard = guardFor([REDACT_EMAILS]);
    const part = fc.oneof(fc.constantFrom('ana.lopez@example.com', 'bob@shop.example.org'), fc.constantFrom('hello ', 'write to ', ' or ', '. ', 'x'.repeat(300)));
    await fc.assert(
      fc.asyncProperty(
        fc.array(part, { minLength: 1, maxLength: 12 }).map((p) => p.join(' ')).chain((text) => chunking(text).map((pieces) => ({ text, pieces }))),
        async ({ text, pieces }) => {
          const { out } = await run(new StreamGate<Piece>(windowCheck(guard, 'openai.m')), pieces);
          expect(out).toBe(text.replace(/ana\.lopez@example\.com|bob@shop\.example\.org/g, '<EMAIL_ADDRESS>'));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('a deny stops the gate: the chunk with the finding and everything after it stay held', async () => {
    const guard = guardFor([{ id: 'no-secrets', effect: 'deny', when: { kind: 'llm_output', detect: { guardrail: 'secrets', in: 'input.content', types: ['AWS_ACCESS_KEY_ID'] } } }]);
    const gate = new StreamGate<Piece>(windowCheck(guard, 'openai.m'));
    const released: string[] = [];
    const feed = async (text: string) => {
      gate.add({ text }, [{ channel: '0', text, rewrite: () => undefined }]);
      for (const p of await gate.release()) released.push(p.text);
    };
    await feed('x'.repeat(100) + ' ');
    await expect(feed('key AKIAQ3EGRIUKXN2PL7VF and more')).rejects.toBeInstanceOf(AgentGuardDeniedError);
    expect(released.join('')).not.toMatch(/AKIA/);
  });

  it('chunks wait on blockers, in order; a dropped blocker removes its chunks', async () => {
    const gate = new StreamGate<Piece>(async (text) => ({ decision: { effect: 'allow' } as never, text, spans: [], holdBack: 0 }));
    gate.add({ text: 'a' }, [{ channel: '0', text: 'a', rewrite: () => undefined }]);
    gate.add({ text: 'tool' }, [], ['t1']);
    gate.add({ text: 'b' }, [{ channel: '0', text: 'b', rewrite: () => undefined }]);
    gate.add({ text: 'tool2' }, [], ['t2']);
    expect((await gate.release()).map((p) => p.text)).toEqual(['a']);
    gate.unblock('t1');
    gate.unblock('t2', true);
    expect((await gate.release()).map((p) => p.text)).toEqual(['tool', 'b']);
  });
});
