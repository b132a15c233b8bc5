import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Action, Effect } from '../src/core/action.js';
import { maskSecrets } from '../src/core/audit/mask.js';
import { evaluatePolicy } from '../src/core/policy/evaluate.js';
import { Policy } from '../src/core/policy/policy.js';
import { maskedPaths, mayHoldMask } from '../src/core/replay/masked.js';
import { possibleEffects } from '../src/core/replay/uncertain.js';

/**
 * The soundness of "cannot tell": whatever value a mask hid, the policy's effect on the real action is one of the
 * effects possibleEffects allows for the masked one; and when it allows one effect only, that is the effect.
 */

const EFFECTS: Effect[] = ['allow', 'deny', 'require_approval'];
const VALUES = ['', 'abc', 'sk-live-1', 'sk-test-2', 'DROP', '42', '[MASKED]'];

const leaf = fc.oneof(
  fc.constantFrom('input.password', 'input.q').chain((path) =>
    fc.oneof(
      fc.constantFrom(...VALUES).map((v) => ({ [path]: v })),
      fc.constantFrom('sk-', 'DR', 'a').map((v) => ({ [path]: { startsWith: v } })),
      fc.constantFrom('live', '^a', 'ROP$').map((v) => ({ [path]: { regex: v } })),
      fc.boolean().map((exists) => ({ [path]: { exists } })),
    ),
  ),
);
const condition = fc.letrec<{ c: Record<string, unknown> }>((tie) => ({
  c: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('c'), { minLength: 1, maxLength: 3 }).map((all) => ({ all })),
    fc.array(tie('c'), { minLength: 1, maxLength: 3 }).map((any) => ({ any })),
    tie('c').map((not) => ({ not })),
  ),
})).c;

const policyArb = fc
  .array(fc.record({ effect: fc.constantFrom(...EFFECTS), when: condition }), { minLength: 1, maxLength: 5 })
  .chain((rules) => fc.constantFrom<'allow' | 'deny'>('allow', 'deny').map((dflt) => ({ rules, dflt })));

describe('policy replay: decisions that depend on masked values', () => {
  it('the real effect is always among the possible ones, and a single possible effect is the real one (property)', () => {
    fc.assert(
      fc.property(policyArb, fc.constantFrom(...VALUES.slice(0, -1)), fc.constantFrom(...VALUES.slice(0, -1)), ({ rules, dflt }, password, q) => {
        const policy = Policy.parse({ version: 1, name: 'p', default: dflt, rules: rules.map((r, i) => ({ id: `r${i}`, ...r, when: { name: 'tool.x', ...r.when } })) }).compiled;
        const real: Action = { kind: 'tool', name: 'tool.x', input: { password, q } };
        const recorded = maskSecrets(real);
        const masked = maskedPaths(recorded);
        expect(masked).toEqual([['input', 'password']]);
        const possible = possibleEffects(policy, recorded, undefined, masked);
        expect([...possible]).toContain(evaluatePolicy(policy, real).effect);
        // Every other password too: the mask could have hidden any of them.
        for (const other of VALUES) {
          expect([...possible]).toContain(evaluatePolicy(policy, { ...real, input: { password: other, q } }).effect);
        }
        if (possible.size === 1) expect(evaluatePolicy(policy, recorded).effect).toBe([...possible][0]);
      }),
      { numRuns: 400 },
    );
  });

  it('a condition that only asks whether the masked field exists, or reads another field, decides', () => {
    const policy = Policy.parse(`version: 1
name: p
rules:
  - { id: has-password, effect: deny, when: { name: db.connect, input.password: { exists: true } } }
  - { id: prod, effect: allow, when: { name: db.query, input.host: { startsWith: prod } } }
`).compiled;
    const connect = maskSecrets({ kind: 'tool', name: 'db.connect', input: { password: 'hunter2' } });
    expect([...possibleEffects(policy, connect, undefined, maskedPaths(connect))]).toEqual(['deny']);
    const query = maskSecrets({ kind: 'tool', name: 'db.query', input: { host: 'prod-1', password: 'hunter2' } });
    expect([...possibleEffects(policy, query, undefined, maskedPaths(query))]).toEqual(['allow']);
  });

  it('finds masks inside longer text, at the depth limit and in lists, and nothing in clean text', () => {
    const recorded = maskSecrets({ kind: 'tool', name: 'x', input: { cmd: 'curl -H "Authorization: Bearer sk-abcdefghijklmnopqrstuvwx1234" https://a', list: ['ok', 'password=hunter22'] } });
    expect(mayHoldMask(JSON.stringify(recorded))).toBe(true);
    expect(maskedPaths(recorded)).toEqual([['input', 'cmd'], ['input', 'list', '1']]);
    expect(mayHoldMask(JSON.stringify({ kind: 'tool', name: 'x', input: { q: 'weather' } }))).toBe(false);
  });
});
